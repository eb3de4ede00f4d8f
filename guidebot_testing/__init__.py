"""Stand-ins for Slack and Teams, and a real `guidebot serve` to point at them.

Tests, `make bench` and `make stress` all drive guidebot through these, the way botbuilder
ships `TestAdapter`: one fake of each platform, at the HTTP level, so a benchmark never
imports the test suite and the test suite never imports a benchmark.

- `guidebot_testing.slack`: a recording Slack Web API (`FakeSlack`), Slack's signed requests,
  and the Slack adapter mounted in-process (`start_env`);
- `guidebot_testing.teams`: a recording Bot Framework connector (`FakeConnector`) and the
  Teams adapter mounted in-process (`start_harness`);
- `guidebot_testing.faults`: seeded 429 / 5xx injection that either fake accepts;
- `guidebot_testing.servers`: `guidebot serve` as a subprocess on a free loopback port;
- `guidebot_testing.stress`: the engine behind `make stress` and its smaller test.
"""
