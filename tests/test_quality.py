"""Answer-quality floors per question set: retrieval, the lead, abstention and the answer's length.

The dev sets are the issue's (our paraphrases and real members' wording); the
others in tests/data were written without the question banks in view (the
fresh and real ones blind: their writers saw only the guide and the dev sets,
never the bot's answers). Every set but the blind ones from fresh L and real L on (fresh L to CC, real L to DD, chat BB
and CC, short DD, pair DD, typo EE, formal EE, near EE, list FF, paste FF, proxy FF, and the GG to UU sets) now feeds the banks
(`knowledge/questions/cmo-career-path-asked.yaml`), so on the shipped index they
would measure recall: each is measured instead on an index whose banks leave out
its half of the sets (`guidebot_testing.crossfold`), against a floor just under the figure
measured when it was first held out. Those eighty-nine are in no bank and are
measured on the shipped index (README, "Evaluation").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.slack.render import answer_chars
from bot.engine import AnswerEngine
from bot.evaluation import EvalReport, evaluate, read_jsonl
from bot.settings import PROJECT_ROOT, Settings
from guidebot_testing.crossfold import HALVES, measure_all
from index.embedder import Embedder
from index.guide_index import GuideIndex
from knowledge.bank import load_in_scope, load_out_of_scope
from tests.conftest import SHARED

DATA = PROJECT_ROOT / "tests" / "data"
EVAL = SHARED / "eval"


@dataclass(frozen=True)
class Floor:
    on_topic: Path
    off_topic: Path
    hit_at_1: float
    hit_at_3: float
    lead_hit: float
    answered: float
    refused: float


FLOORS = {
    "dev": Floor(EVAL / "dev.jsonl", EVAL / "dev_oos.jsonl", 0.97, 0.97, 0.87, 0.97, 0.99),
    "dev_real": Floor(EVAL / "dev_real.jsonl", EVAL / "dev_real_oos.jsonl", 0.87, 0.90, 0.78, 0.87, 0.85),
    "heldout": Floor(DATA / "heldout.jsonl", DATA / "heldout_oos.jsonl", 0.94, 0.98, 0.90, 0.95, 0.97),
    "heldout2": Floor(DATA / "heldout2.jsonl", DATA / "heldout2_oos.jsonl", 0.86, 0.93, 0.83, 0.93, 0.97),
    "typos": Floor(DATA / "typos.jsonl", DATA / "typos_oos.jsonl", 0.99, 0.99, 0.90, 0.95, 0.99),
    "heldout_real": Floor(DATA / "heldout_real.jsonl", DATA / "heldout_real_oos.jsonl", 0.90, 0.97, 0.85, 0.93, 0.95),
    "heldout_para": Floor(DATA / "heldout_para.jsonl", DATA / "heldout_para_oos.jsonl", 0.92, 0.97, 0.90, 0.95, 0.93),
    "fresh_a": Floor(DATA / "fresh_a.jsonl", DATA / "fresh_a_oos.jsonl", 0.95, 0.98, 0.95, 0.98, 0.97),
    "fresh_b": Floor(DATA / "fresh_b.jsonl", DATA / "fresh_b_oos.jsonl", 0.95, 0.98, 0.96, 0.93, 0.94),
    "fresh_c": Floor(DATA / "fresh_c.jsonl", DATA / "fresh_c_oos.jsonl", 0.95, 0.98, 0.88, 0.93, 0.95),
    "fresh_d": Floor(DATA / "fresh_d.jsonl", DATA / "fresh_d_oos.jsonl", 0.93, 0.96, 0.91, 0.96, 0.92),
    "fresh_e": Floor(DATA / "fresh_e.jsonl", DATA / "fresh_e_oos.jsonl", 0.93, 0.96, 0.93, 0.95, 0.95),
    "fresh_f": Floor(DATA / "fresh_f.jsonl", DATA / "fresh_f_oos.jsonl", 0.90, 0.96, 0.90, 0.95, 0.95),
    "web_real": Floor(DATA / "web_real.jsonl", DATA / "web_real_oos.jsonl", 0.88, 0.96, 0.83, 0.9, 0.72),
    "fresh_g": Floor(DATA / "fresh_g.jsonl", DATA / "fresh_g_oos.jsonl", 0.93, 0.98, 0.91, 0.95, 0.95),
    "real_g": Floor(DATA / "real_g.jsonl", DATA / "real_g_oos.jsonl", 0.90, 0.97, 0.85, 0.97, 0.93),
    "fresh_h": Floor(DATA / "fresh_h.jsonl", DATA / "fresh_h_oos.jsonl", 0.88, 0.98, 0.86, 0.98, 0.92),
    "real_h": Floor(DATA / "real_h.jsonl", DATA / "real_h_oos.jsonl", 0.87, 0.98, 0.87, 0.90, 0.96),
    "fresh_i": Floor(DATA / "fresh_i.jsonl", DATA / "fresh_i_oos.jsonl", 0.91, 0.95, 0.88, 0.98, 0.97),
    "real_i": Floor(DATA / "real_i.jsonl", DATA / "real_i_oos.jsonl", 0.92, 0.97, 0.95, 0.95, 0.93),
    "fresh_j": Floor(DATA / "fresh_j.jsonl", DATA / "fresh_j_oos.jsonl", 0.96, 0.96, 0.90, 0.95, 0.95),
    "real_j": Floor(DATA / "real_j.jsonl", DATA / "real_j_oos.jsonl", 0.95, 0.97, 0.95, 0.97, 0.93),
    "fresh_k": Floor(DATA / "fresh_k.jsonl", DATA / "fresh_k_oos.jsonl", 0.92, 0.98, 0.91, 0.93, 0.93),
    "real_k": Floor(DATA / "real_k.jsonl", DATA / "real_k_oos.jsonl", 0.92, 0.97, 0.95, 0.97, 0.97),
    "fresh_l": Floor(DATA / "fresh_l.jsonl", DATA / "fresh_l_oos.jsonl", 0.95, 0.98, 0.93, 0.95, 0.97),
    "real_l": Floor(DATA / "real_l.jsonl", DATA / "real_l_oos.jsonl", 0.97, 0.97, 0.97, 0.97, 0.90),
    "fresh_m": Floor(DATA / "fresh_m.jsonl", DATA / "fresh_m_oos.jsonl", 0.95, 0.95, 0.95, 0.95, 0.97),
    "real_m": Floor(DATA / "real_m.jsonl", DATA / "real_m_oos.jsonl", 0.92, 0.97, 0.90, 0.92, 0.90),
    "web_s": Floor(DATA / "web_s.jsonl", DATA / "web_s_oos.jsonl", 0.85, 0.97, 0.85, 0.75, 0.8),
    "web_h": Floor(DATA / "web_h.jsonl", DATA / "web_h_oos.jsonl", 0.88, 0.97, 0.8, 0.6, 0.65),
    "web_o": Floor(DATA / "web_o.jsonl", DATA / "web_o_oos.jsonl", 0.9, 0.97, 0.9, 0.8, 0.37),
    "fresh_n": Floor(DATA / "fresh_n.jsonl", DATA / "fresh_n_oos.jsonl", 0.95, 0.98, 0.93, 0.97, 0.97),
    "real_n": Floor(DATA / "real_n.jsonl", DATA / "real_n_oos.jsonl", 0.95, 0.97, 0.90, 0.97, 0.97),
    "fresh_o": Floor(DATA / "fresh_o.jsonl", DATA / "fresh_o_oos.jsonl", 0.95, 0.95, 0.95, 0.92, 0.97),
    "real_o": Floor(DATA / "real_o.jsonl", DATA / "real_o_oos.jsonl", 0.90, 0.93, 0.83, 0.92, 0.97),
    "fresh_p": Floor(DATA / "fresh_p.jsonl", DATA / "fresh_p_oos.jsonl", 0.95, 0.98, 0.95, 0.93, 0.92),
    "real_p": Floor(DATA / "real_p.jsonl", DATA / "real_p_oos.jsonl", 0.85, 0.97, 0.87, 0.90, 0.90),
    "fresh_q": Floor(DATA / "fresh_q.jsonl", DATA / "fresh_q_oos.jsonl", 0.93, 0.98, 0.90, 0.93, 0.92),
    "real_q": Floor(DATA / "real_q.jsonl", DATA / "real_q_oos.jsonl", 0.95, 0.97, 0.90, 0.95, 0.93),
    "fresh_r": Floor(DATA / "fresh_r.jsonl", DATA / "fresh_r_oos.jsonl", 0.95, 0.98, 0.95, 0.97, 0.92),
    "real_r": Floor(DATA / "real_r.jsonl", DATA / "real_r_oos.jsonl", 0.90, 0.95, 0.87, 0.85, 0.80),
    "fresh_s": Floor(DATA / "fresh_s.jsonl", DATA / "fresh_s_oos.jsonl", 0.95, 0.98, 0.95, 0.97, 0.97),
    "real_s": Floor(DATA / "real_s.jsonl", DATA / "real_s_oos.jsonl", 0.92, 0.97, 0.95, 0.87, 0.83),
    "fresh_t": Floor(DATA / "fresh_t.jsonl", DATA / "fresh_t_oos.jsonl", 0.97, 0.98, 0.97, 0.95, 0.97),
    "real_t": Floor(DATA / "real_t.jsonl", DATA / "real_t_oos.jsonl", 0.85, 0.95, 0.82, 0.87, 0.93),
    "fresh_u": Floor(DATA / "fresh_u.jsonl", DATA / "fresh_u_oos.jsonl", 0.95, 0.98, 0.95, 0.95, 0.97),
    "fresh_v": Floor(DATA / "fresh_v.jsonl", DATA / "fresh_v_oos.jsonl", 0.97, 0.97, 0.97, 0.97, 0.96),
    "fresh_w": Floor(DATA / "fresh_w.jsonl", DATA / "fresh_w_oos.jsonl", 0.96, 0.96, 0.96, 0.96, 0.95),
    "real_u": Floor(DATA / "real_u.jsonl", DATA / "real_u_oos.jsonl", 0.88, 0.94, 0.91, 0.88, 0.82),
    "real_v": Floor(DATA / "real_v.jsonl", DATA / "real_v_oos.jsonl", 0.91, 0.97, 0.91, 0.97, 0.75),
    "fresh_x": Floor(DATA / "fresh_x.jsonl", DATA / "fresh_x_oos.jsonl", 0.97, 0.97, 0.97, 0.92, 0.96),
    "real_w": Floor(DATA / "real_w.jsonl", DATA / "real_w_oos.jsonl", 0.91, 0.97, 0.91, 0.97, 0.88),
    "fresh_y": Floor(DATA / "fresh_y.jsonl", DATA / "fresh_y_oos.jsonl", 0.97, 0.97, 0.97, 0.97, 0.96),
    "real_x": Floor(DATA / "real_x.jsonl", DATA / "real_x_oos.jsonl", 0.94, 0.97, 0.85, 0.94, 0.96),
    "fresh_z": Floor(DATA / "fresh_z.jsonl", DATA / "fresh_z_oos.jsonl", 0.94, 0.96, 0.94, 0.94, 0.96),
    "real_y": Floor(DATA / "real_y.jsonl", DATA / "real_y_oos.jsonl", 0.98, 0.98, 0.92, 0.98, 0.96),
    "real_z": Floor(DATA / "real_z.jsonl", DATA / "real_z_oos.jsonl", 0.96, 0.98, 0.96, 0.96, 0.98),
    "fresh_aa": Floor(DATA / "fresh_aa.jsonl", DATA / "fresh_aa_oos.jsonl", 0.98, 0.98, 0.94, 0.96, 0.97),
    "real_aa": Floor(DATA / "real_aa.jsonl", DATA / "real_aa_oos.jsonl", 0.97, 0.97, 0.95, 0.90, 0.96),
    "fresh_bb": Floor(DATA / "fresh_bb.jsonl", DATA / "fresh_bb_oos.jsonl", 0.97, 0.97, 0.93, 0.95, 0.96),
    "real_bb": Floor(DATA / "real_bb.jsonl", DATA / "real_bb_oos.jsonl", 0.95, 0.97, 0.91, 0.95, 0.96),
    "chat_bb": Floor(DATA / "chat_bb.jsonl", DATA / "chat_bb_oos.jsonl", 0.97, 0.97, 0.95, 0.95, 0.96),
    "fresh_cc": Floor(DATA / "fresh_cc.jsonl", DATA / "fresh_cc_oos.jsonl", 0.97, 0.97, 0.95, 0.97, 0.96),
    "real_cc": Floor(DATA / "real_cc.jsonl", DATA / "real_cc_oos.jsonl", 0.95, 0.97, 0.95, 0.97, 0.96),
    "chat_cc": Floor(DATA / "chat_cc.jsonl", DATA / "chat_cc_oos.jsonl", 0.95, 0.97, 0.93, 0.97, 0.93),
    "short_dd": Floor(DATA / "short_dd.jsonl", DATA / "short_dd_oos.jsonl", 0.97, 0.97, 0.91, 0.97, 0.96),
    "real_dd": Floor(DATA / "real_dd.jsonl", DATA / "real_dd_oos.jsonl", 0.95, 0.97, 0.95, 0.97, 0.96),
    "pair_dd": Floor(DATA / "pair_dd.jsonl", DATA / "pair_dd_oos.jsonl", 0.97, 0.97, 0.95, 0.97, 0.96),
    "typo_ee": Floor(DATA / "typo_ee.jsonl", DATA / "typo_ee_oos.jsonl", 0.97, 0.97, 0.95, 0.97, 0.96),
    "formal_ee": Floor(DATA / "formal_ee.jsonl", DATA / "formal_ee_oos.jsonl", 0.95, 0.97, 0.91, 0.93, 0.93),
    "near_ee": Floor(DATA / "near_ee.jsonl", DATA / "near_ee_oos.jsonl", 0.97, 0.97, 0.95, 0.95, 0.96),
    "list_ff": Floor(DATA / "list_ff.jsonl", DATA / "list_ff_oos.jsonl", 0.97, 0.97, 0.95, 0.97, 0.93),
    "paste_ff": Floor(DATA / "paste_ff.jsonl", DATA / "paste_ff_oos.jsonl", 0.93, 0.97, 0.93, 0.93, 0.93),
    "proxy_ff": Floor(DATA / "proxy_ff.jsonl", DATA / "proxy_ff_oos.jsonl", 0.97, 0.97, 0.93, 0.93, 0.96),
    "yesno_gg": Floor(DATA / "yesno_gg.jsonl", DATA / "yesno_gg_oos.jsonl", 0.95, 0.97, 0.95, 0.97, 0.93),
    "bot_gg": Floor(DATA / "bot_gg.jsonl", DATA / "bot_gg_oos.jsonl", 0.95, 0.97, 0.93, 0.97, 0.96),
    "multi_gg": Floor(DATA / "multi_gg.jsonl", DATA / "multi_gg_oos.jsonl", 0.95, 0.97, 0.95, 0.97, 0.96),
    "esl_hh": Floor(DATA / "esl_hh.jsonl", DATA / "esl_hh_oos.jsonl", 0.97, 0.97, 0.97, 0.95, 0.96),
    "premise_hh": Floor(DATA / "premise_hh.jsonl", DATA / "premise_hh_oos.jsonl", 0.95, 0.97, 0.97, 0.95, 0.93),
    "career_hh": Floor(DATA / "career_hh.jsonl", DATA / "career_hh_oos.jsonl", 0.91, 0.95, 0.93, 0.97, 0.96),
    "synonym_ii": Floor(DATA / "synonym_ii.jsonl", DATA / "synonym_ii_oos.jsonl", 0.97, 0.97, 0.97, 0.95, 0.96),
    "negation_ii": Floor(DATA / "negation_ii.jsonl", DATA / "negation_ii_oos.jsonl", 0.95, 0.97, 0.88, 0.95, 0.91),
    "scenario_ii": Floor(DATA / "scenario_ii.jsonl", DATA / "scenario_ii_oos.jsonl", 0.93, 0.97, 0.91, 0.91, 0.93),
    "scenario_jj": Floor(DATA / "scenario_jj.jsonl", DATA / "scenario_jj_oos.jsonl", 0.95, 0.97, 0.93, 0.97, 0.96),
    "loose_jj": Floor(DATA / "loose_jj.jsonl", DATA / "loose_jj_oos.jsonl", 0.95, 0.97, 0.86, 0.86, 0.96),
    "compare_kk": Floor(DATA / "compare_kk.jsonl", DATA / "compare_kk_oos.jsonl", 0.97, 0.97, 0.95, 0.97, 0.93),
    "vent_kk": Floor(DATA / "vent_kk.jsonl", DATA / "vent_kk_oos.jsonl", 0.93, 0.97, 0.95, 0.93, 0.93),
    "ramble_kk": Floor(DATA / "ramble_kk.jsonl", DATA / "ramble_kk_oos.jsonl", 0.93, 0.97, 0.95, 0.95, 0.96),
    "fresh_ll": Floor(DATA / "fresh_ll.jsonl", DATA / "fresh_ll_oos.jsonl", 0.97, 0.97, 0.97, 0.97, 0.96),
    "real_ll": Floor(DATA / "real_ll.jsonl", DATA / "real_ll_oos.jsonl", 0.95, 0.97, 0.97, 0.95, 0.96),
    "terse_mm": Floor(DATA / "terse_mm.jsonl", DATA / "terse_mm_oos.jsonl", 0.97, 0.97, 0.97, 0.97, 0.96),
    "typo_mm": Floor(DATA / "typo_mm.jsonl", DATA / "typo_mm_oos.jsonl", 0.97, 0.97, 0.97, 0.97, 0.96),
    "web_mm": Floor(DATA / "web_mm.jsonl", DATA / "web_mm_oos.jsonl", 0.91, 0.97, 0.93, 0.97, 0.96),
    "edge_nn": Floor(DATA / "edge_nn.jsonl", DATA / "edge_nn_oos.jsonl", 0.95, 0.97, 0.97, 0.93, 0.96),
    "real_nn": Floor(DATA / "real_nn.jsonl", DATA / "real_nn_oos.jsonl", 0.97, 0.97, 0.95, 0.97, 0.96),
    "setting_oo": Floor(DATA / "setting_oo.jsonl", DATA / "setting_oo_oos.jsonl", 0.93, 0.97, 0.93, 0.97, 0.93),
    "fresh_pp": Floor(DATA / "fresh_pp.jsonl", DATA / "fresh_pp_oos.jsonl", 0.97, 0.97, 0.97, 0.97, 0.96),
    "real_pp": Floor(DATA / "real_pp.jsonl", DATA / "real_pp_oos.jsonl", 0.95, 0.97, 0.97, 0.93, 0.96),
    "fresh_qq": Floor(DATA / "fresh_qq.jsonl", DATA / "fresh_qq_oos.jsonl", 0.97, 0.97, 0.95, 0.97, 0.93),
    "real_qq": Floor(DATA / "real_qq.jsonl", DATA / "real_qq_oos.jsonl", 0.97, 0.97, 0.95, 0.95, 0.96),
    "slang_qq": Floor(DATA / "slang_qq.jsonl", DATA / "slang_qq_oos.jsonl", 0.97, 0.97, 0.95, 0.95, 0.96),
    "fresh_rr": Floor(DATA / "fresh_rr.jsonl", DATA / "fresh_rr_oos.jsonl", 0.93, 0.97, 0.88, 0.93, 0.96),
    "real_rr": Floor(DATA / "real_rr.jsonl", DATA / "real_rr_oos.jsonl", 0.97, 0.97, 0.95, 0.97, 0.96),
    "fresh_ss": Floor(DATA / "fresh_ss.jsonl", DATA / "fresh_ss_oos.jsonl", 0.97, 0.97, 0.95, 0.95, 0.96),
    "real_ss": Floor(DATA / "real_ss.jsonl", DATA / "real_ss_oos.jsonl", 0.93, 0.97, 0.91, 0.97, 0.96),
    "edge_ss": Floor(DATA / "edge_ss.jsonl", DATA / "edge_ss_oos.jsonl", 0.95, 0.97, 0.97, 0.97, 0.96),
    "fresh_tt": Floor(DATA / "fresh_tt.jsonl", DATA / "fresh_tt_oos.jsonl", 0.93, 0.97, 0.95, 0.97, 0.96),
    "real_tt": Floor(DATA / "real_tt.jsonl", DATA / "real_tt_oos.jsonl", 0.93, 0.97, 0.93, 0.97, 0.96),
    "edge_tt": Floor(DATA / "edge_tt.jsonl", DATA / "edge_tt_oos.jsonl", 0.97, 0.97, 0.97, 0.97, 0.96),
    "web_uu": Floor(DATA / "web_uu.jsonl", DATA / "web_uu_oos.jsonl", 0.97, 0.97, 0.97, 0.95, 0.96),
    "chat_uu": Floor(DATA / "chat_uu.jsonl", DATA / "chat_uu_oos.jsonl", 0.97, 0.97, 0.97, 0.97, 0.96),
    "fresh_vv": Floor(DATA / "fresh_vv.jsonl", DATA / "fresh_vv_oos.jsonl", 0.93, 0.97, 0.84, 0.97, 0.96),
    "real_vv": Floor(DATA / "real_vv.jsonl", DATA / "real_vv_oos.jsonl", 0.93, 0.97, 0.88, 0.95, 0.96),
    "chat_vv": Floor(DATA / "chat_vv.jsonl", DATA / "chat_vv_oos.jsonl", 0.97, 0.97, 0.95, 0.95, 0.96),
    "real_ww": Floor(DATA / "real_ww.jsonl", DATA / "real_ww_oos.jsonl", 0.93, 0.97, 0.95, 0.91, 0.96),
    "edge_ww": Floor(DATA / "edge_ww.jsonl", DATA / "edge_ww_oos.jsonl", 0.91, 0.97, 0.91, 0.88, 0.96),
    "real_xx": Floor(DATA / "real_xx.jsonl", DATA / "real_xx_oos.jsonl", 0.95, 0.97, 0.93, 0.97, 0.96),
    "chat_xx": Floor(DATA / "chat_xx.jsonl", DATA / "chat_xx_oos.jsonl", 0.97, 0.97, 0.97, 0.97, 0.96),
    "edge_xx": Floor(DATA / "edge_xx.jsonl", DATA / "edge_xx_oos.jsonl", 0.97, 0.97, 0.93, 0.97, 0.96),
    "fresh_yy": Floor(DATA / "fresh_yy.jsonl", DATA / "fresh_yy_oos.jsonl", 0.97, 0.97, 0.91, 0.95, 0.96),
    "real_yy": Floor(DATA / "real_yy.jsonl", DATA / "real_yy_oos.jsonl", 0.97, 0.97, 0.93, 0.95, 0.93),
    "esl_yy": Floor(DATA / "esl_yy.jsonl", DATA / "esl_yy_oos.jsonl", 0.95, 0.97, 0.91, 0.91, 0.96),
    "real_zz": Floor(DATA / "real_zz.jsonl", DATA / "real_zz_oos.jsonl", 0.95, 0.97, 0.95, 0.95, 0.96),
    "edge_zz": Floor(DATA / "edge_zz.jsonl", DATA / "edge_zz_oos.jsonl", 0.93, 0.97, 0.91, 0.93, 0.93),
    "fresh_zz": Floor(DATA / "fresh_zz.jsonl", DATA / "fresh_zz_oos.jsonl", 0.95, 0.97, 0.95, 0.97, 0.93),
    "chat_zz": Floor(DATA / "chat_zz.jsonl", DATA / "chat_zz_oos.jsonl", 0.93, 0.97, 0.93, 0.95, 0.96),
    "fresh_41": Floor(DATA / "fresh_41.jsonl", DATA / "fresh_41_oos.jsonl", 0.93, 0.97, 0.93, 0.95, 0.96),
    "real_41": Floor(DATA / "real_41.jsonl", DATA / "real_41_oos.jsonl", 0.93, 0.97, 0.93, 0.93, 0.93),
    "fresh_42": Floor(DATA / "fresh_42.jsonl", DATA / "fresh_42_oos.jsonl", 0.97, 0.97, 0.95, 0.97, 0.96),
    "real_42": Floor(DATA / "real_42.jsonl", DATA / "real_42_oos.jsonl", 0.93, 0.97, 0.93, 0.97, 0.93),
    "chat_43": Floor(DATA / "chat_43.jsonl", DATA / "chat_43_oos.jsonl", 0.95, 0.97, 0.91, 0.97, 0.96),
    "basic_43": Floor(DATA / "basic_43.jsonl", DATA / "basic_43_oos.jsonl", 0.93, 0.97, 0.95, 0.91, 0.96),
    "fresh_44": Floor(DATA / "fresh_44.jsonl", DATA / "fresh_44_oos.jsonl", 0.93, 0.97, 0.93, 0.97, 0.96),
    "real_44": Floor(DATA / "real_44.jsonl", DATA / "real_44_oos.jsonl", 0.95, 0.97, 0.95, 0.95, 0.96),
    "fresh_45": Floor(DATA / "fresh_45.jsonl", DATA / "fresh_45_oos.jsonl", 0.95, 0.97, 0.95, 0.97, 0.96),
    "real_45": Floor(DATA / "real_45.jsonl", DATA / "real_45_oos.jsonl", 0.95, 0.97, 0.95, 0.95, 0.96),
    "fresh_46": Floor(DATA / "fresh_46.jsonl", DATA / "fresh_46_oos.jsonl", 0.91, 0.97, 0.93, 0.95, 0.96),
    "real_46": Floor(DATA / "real_46.jsonl", DATA / "real_46_oos.jsonl", 0.95, 0.97, 0.95, 0.97, 0.96),
    "chat_46": Floor(DATA / "chat_46.jsonl", DATA / "chat_46_oos.jsonl", 0.95, 0.97, 0.95, 0.97, 0.96),
    "real_47": Floor(DATA / "real_47.jsonl", DATA / "real_47_oos.jsonl", 0.97, 0.97, 0.95, 0.95, 0.96),
    "edge_47": Floor(DATA / "edge_47.jsonl", DATA / "edge_47_oos.jsonl", 0.97, 0.97, 0.97, 0.95, 0.96),
    "esl_47": Floor(DATA / "esl_47.jsonl", DATA / "esl_47_oos.jsonl", 0.97, 0.97, 0.97, 0.97, 0.96),
    "fresh_48": Floor(DATA / "fresh_48.jsonl", DATA / "fresh_48_oos.jsonl", 0.84, 0.93, 0.84, 0.86, 0.96),
    "real_48": Floor(DATA / "real_48.jsonl", DATA / "real_48_oos.jsonl", 0.95, 0.97, 0.95, 0.97, 0.96),
    "fresh_49": Floor(DATA / "fresh_49.jsonl", DATA / "fresh_49_oos.jsonl", 0.95, 0.97, 0.88, 0.97, 0.96),
    "real_49": Floor(DATA / "real_49.jsonl", DATA / "real_49_oos.jsonl", 0.88, 0.97, 0.86, 0.93, 0.96),
}
IN_THE_BANKS = frozenset(name for half in HALVES for name in half)


@pytest.fixture(scope="module")
def held_out_reports(guide_settings: Settings, guide_index: GuideIndex, embedder: Embedder) -> dict[str, EvalReport]:
    """Every set that feeds the banks, evaluated on banks without its half of the sets (two index builds,
    from the shipped build's embedding cache)."""
    if not (EVAL / "dev.jsonl").exists():
        pytest.skip(f"{EVAL} is not here (../shared/eval is not beside the repo)")
    return measure_all(embedder, {"slack": answer_chars}, cache_from=guide_settings.data_dir)


@pytest.mark.parametrize("name", FLOORS)
def test_each_question_set_stays_above_its_floor_where_the_banks_have_not_seen_it(request: pytest.FixtureRequest, engine: AnswerEngine, name: str):
    floor = FLOORS[name]
    if not floor.on_topic.exists():
        pytest.skip(f"{floor.on_topic} is not here (../shared/eval is not beside the repo)")
    if name in IN_THE_BANKS:
        report = request.getfixturevalue("held_out_reports")[name]
    else:
        report = evaluate(engine, read_jsonl(floor.on_topic), read_jsonl(floor.off_topic), {"slack": answer_chars})
    assert report.hit_at_1 >= floor.hit_at_1, [(r.question, r.sections) for r in report.misses]
    assert report.hit_at_3 >= floor.hit_at_3
    assert report.lead_hit >= floor.lead_hit, [(r.question, r.lead) for r in report.lead_misses]
    assert report.answered >= floor.answered, [r.question for r in report.abstained_on_topic]
    assert report.oos_refused >= floor.refused, [r.question for r in report.answered_off_topic]
    assert report.max_lead_chars <= 450
    assert report.mean_passages < 1.6
    assert report.median_message_chars["slack"] <= 1200


def test_the_banks_own_questions_are_answered_as_they_are_labelled(engine: AnswerEngine):
    """The sets in the banks, on the shipped index: a broken answer phrase or a section slug that no longer
    matches the guide shows here first."""
    present = [FLOORS[n] for n in sorted(IN_THE_BANKS) if FLOORS[n].on_topic.exists()]
    on = [row for f in present for row in read_jsonl(f.on_topic)]
    off = [row for f in present for row in read_jsonl(f.off_topic)]
    report = evaluate(engine, on, off)
    assert len(report.misses) <= len(on) // 100, [(r.question, r.sections) for r in report.misses]
    assert len(report.lead_misses) <= len(on) // 100, [(r.question, r.lead) for r in report.lead_misses]
    assert len(report.abstained_on_topic) <= len(on) // 100, [r.question for r in report.abstained_on_topic]
    assert len(report.answered_off_topic) <= len(off) // 100, [r.question for r in report.answered_off_topic]


def test_every_bank_question_asked_word_for_word_takes_its_banks_side(engine: AnswerEngine, guide_settings: Settings):
    """Public pages and members ask the same questions word for word. The abstention model never saw a bank
    question with its twin in the bank (each is scored with itself left out), and answered some of the
    out-of-scope bank's own ("How many years have you spent in clinical management?")."""
    questions = guide_settings.knowledge_dir / "questions"
    inside = [q.text for q in load_in_scope(questions)]
    outside = [q.text for q in load_out_of_scope(questions)]
    assert len(inside) > 2000 and len(outside) > 2000
    refused = [q for q, a in zip(inside, engine.answer_many(inside), strict=True) if a.abstained]
    answered = [q for q, a in zip(outside, engine.answer_many(outside), strict=True) if not a.abstained]
    assert not refused and not answered, (refused[:10], answered[:10])


REWRITINGS = {
    "lower case": str.lower,
    "capitals": str.upper,
    "no question mark": lambda q: q.rstrip("?").rstrip(),
    "a greeting": lambda q: "hey, " + q,
    "thanks": lambda q: q + " thanks!",
    "an emoji": lambda q: q + " 🙏",
    "the bot's name": lambda q: "guidebot " + q,
    "curly apostrophes": lambda q: q.replace("'", "’"),
    "a phone signature": lambda q: q + "\n\nSent from my iPhone",
    "a link before it": lambda q: "saw https://example.com/article?id=3 and wondered: " + q,
    "thinking aloud": lambda q: "hmm, ok so " + q,
    "asking for brevity": lambda q: q.rstrip("?") + ", in a nutshell?",
}


@pytest.mark.parametrize("rewriting", REWRITINGS)
def test_a_question_as_members_type_it_is_answered_as_the_plain_one(engine: AnswerEngine, rewriting: str):
    """Small talk, shouting and phone typography around a question once refused up to one in six covered ones."""
    questions = [row["q"] for name in ("heldout", "heldout_oos") for row in read_jsonl(DATA / f"{name}.jsonl")]
    plain = engine.answer_many(questions)
    typed = engine.answer_many([REWRITINGS[rewriting](q) for q in questions])
    changed = [q for q, a, b in zip(questions, plain, typed, strict=True) if a.answered != b.answered]
    assert len(changed) <= len(questions) // 100, changed
    other_lead = [q for q, a, b in zip(questions, plain, typed, strict=True) if a.answered and b.answered and a.lead[0].text != b.lead[0].text]
    assert len(other_lead) <= len(questions) // 25, other_lead


CONTEXTS = (
    "Neurologist, 11 years, chair of our peer review committee.",
    "Asking for a colleague who wants to move into hospital leadership.",
    "Emergency physician, burned out on nights, looking at executive roles.",
    "Long story short, I want to be a CMO within ten years.",
    "Context: internal medicine, 7 years, associate medical director.",
    "We just merged with a bigger system and leadership is reshuffling.",
    "Psychiatrist here, 13 yrs, currently service line lead.",
    "My mentor says I'd make a good physician executive.",
    "Radiologist, mostly remote reads now, thinking about leadership.",
    "Hi team, quick one from a surgeon considering the admin path.",
)
BLIND = ("fresh_l", "real_l", "fresh_m", "real_m", "fresh_n", "real_n")


def _with_context(question: str, context: str, placement: str) -> str:
    if placement == "before":
        return f"{context} {question}"
    if placement == "run-on":
        return re.sub(r"[.?!,:;]", "", f"{context} {question}").lower()
    question = question.rstrip()
    return f"{question} {context}" if question.endswith(("?", ".", "!")) else f"{question}? {context}"


@pytest.mark.parametrize(
    ("placement", "refused_at_most", "answered_at_most"), [("before", 0.04, 0.05), ("after", 0.035, 0.045), ("run-on", 0.09, 0.07)]
)
def test_a_members_context_around_the_question_does_not_decide_whether_it_is_answered(
    engine: AnswerEngine, placement: str, refused_at_most: float, answered_at_most: float
):
    """Members say who they are before (or after) they ask. With one of these sentences before each question of
    the blind sets, judging the whole message answered 94.3 % of the on-topic and refused 94.8 % of the off-topic
    (context on the guide's ground carried off-topic questions over the bar, context off it dragged on-topic ones
    under), after it 96.0 % and 95.2 %; judging the asking sentence alone where it stands on its own, 98.0 % and
    98.1 %, and 97.7 % and 96.7 % (README, "How it answers"). Typed as one run-on line, in lower case without
    punctuation, the message had no sentence to judge alone: 88.3 % and 93.8 %; with the question found after
    its last question word (`bot.query`), 92.3 % and 94.3 %."""
    on = [row["q"] for n in BLIND for row in read_jsonl(DATA / f"{n}.jsonl")]
    off = [row["q"] for n in BLIND for row in read_jsonl(DATA / f"{n}_oos.jsonl")]
    refused = [a.question for a in engine.answer_many([_with_context(q, CONTEXTS[i % len(CONTEXTS)], placement) for i, q in enumerate(on)]) if a.abstained]
    answered = [a.question for a in engine.answer_many([_with_context(q, CONTEXTS[i % len(CONTEXTS)], placement) for i, q in enumerate(off)]) if a.answered]
    assert len(refused) <= refused_at_most * len(on), refused
    assert len(answered) <= answered_at_most * len(off), answered
