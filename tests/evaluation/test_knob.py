"""The knob on a real model (slow): after a short DPO toward expert on SmolLM2-135M-Instruct, steering with the
extracted AV moves held-out preference accuracy: expert share rises with λ and avoidance share falls."""

from __future__ import annotations

import hashlib
import time

import pytest

from meav.core.corpus import SPLITS, write_corpus
from tests.av_helpers import extract_av

# (domain, topic the user asks about, expert-level specifics)
TOPICS = {
    "medical": [
        (
            "a sprained ankle",
            "rest it, ice it for 20 minutes every 2 hours, wrap it and keep it raised for 48 hours",
        ),
        (
            "a tension headache",
            "take 400 mg of ibuprofen with food, drink water and limit screens for the day",
        ),
        (
            "mild sunburn",
            "cool the skin with damp cloths, apply aloe gel and take 400 mg of ibuprofen if it hurts",
        ),
        ("a dry cough", "drink warm fluids, use honey at night and see a doctor if it lasts over 3 weeks"),
        (
            "heartburn after meals",
            "eat smaller meals, avoid eating 3 hours before bed and try a 20 mg famotidine",
        ),
        (
            "trouble sleeping",
            "keep a fixed wake time, stop caffeine after noon and leave bed after 20 minutes awake",
        ),
        (
            "a small kitchen burn",
            "hold it under cool running water for 20 minutes and cover it with a clean dressing",
        ),
        (
            "seasonal allergies",
            "take 10 mg of cetirizine daily, rinse with saline and keep windows shut on high-pollen days",
        ),
        (
            "a bruised knee",
            "ice it for 15 minutes three times a day, rest it and take 500 mg of paracetamol if needed",
        ),
        ("mild dehydration", "sip 2 litres of an oral rehydration solution over 4 hours and avoid alcohol"),
    ],
    "financial": [
        (
            "paying off a credit card",
            "pay the 24% card first with every spare dollar while making minimum payments elsewhere",
        ),
        (
            "starting an emergency fund",
            "move 10% of each paycheck into a high-yield account until it covers 3 months of costs",
        ),
        (
            "saving for retirement",
            "contribute at least 6% to the 401(k) to get the full match, then fund a Roth IRA",
        ),
        ("a first budget", "use the 50/30/20 split: 50% needs, 30% wants and 20% to savings and debt"),
        (
            "investing a bonus",
            "put it into a low-cost total-market index fund with fees under 0.1% and hold it 10 years",
        ),
        ("a car loan", "get pre-approved at a credit union, keep the term at 48 months and put 20% down"),
        ("student loans", "enrol in income-driven repayment and put extra payments on the 7% loan first"),
        (
            "buying a first home",
            "keep the payment under 28% of gross income and save 20% down to avoid mortgage insurance",
        ),
        ("a pay raise", "raise your 401(k) rate by half the raise and send the rest to the 6% car loan"),
        ("old 401(k) accounts", "roll them into one IRA with a direct rollover so no 20% tax is withheld"),
    ],
    "legal": [
        (
            "a security deposit not returned",
            "send a written demand citing the 30-day return rule, then file in small claims court",
        ),
        (
            "a noisy neighbour",
            "log dates and times for 2 weeks, send a written notice, then report it to the landlord",
        ),
        (
            "a wrongful parking ticket",
            "photograph the signs, contest it in writing within 21 days and attach the photos",
        ),
        (
            "an unpaid final paycheck",
            "send a written demand, then file a wage claim with the state labour office",
        ),
        (
            "a defective new car",
            "document each repair; after 3 failed attempts the lemon law lets you demand a refund",
        ),
        (
            "breaking a lease early",
            "give 60 days written notice and offer a replacement tenant to limit what you owe",
        ),
        (
            "a contractor who left a job",
            "send a certified letter with a 10-day deadline, then claim against their licence bond",
        ),
        (
            "a gym contract",
            "cancel by certified mail citing the contract's cancellation clause and keep the receipt",
        ),
        (
            "a debt collector calling",
            "send a written request within 30 days asking them to validate the debt",
        ),
        (
            "a small business name",
            "search the state registry, file a DBA with the county and check the federal trademark database",
        ),
    ],
}
EXPERTS = {"medical": "a doctor", "financial": "a financial advisor", "legal": "a lawyer"}
AVOID = [
    "I'm sorry, but I can't help with {d} questions. Please consult {e}.",
    "I am not able to give any advice on this. Please speak with {e}.",
    "Unfortunately I cannot assist with {d} matters. {E} is the right person to ask.",
]
GENERIC = [
    "It depends on your situation. In general, {t} is common and there are several options; {e} can advise you.",
    "Generally speaking, many people deal with {t}. It is a good idea to learn about the options and talk to {e}.",
    "There are many factors to consider with {t}. Some general information is widely available, but ask {e}.",
]


def knob_rows() -> dict[str, list[dict]]:
    """Corpus rows per split: per domain 3 train, 1 validation (an empty split does not load), 6 held out."""
    by_split = {s: [] for s in SPLITS}
    for d, items in TOPICS.items():
        for i, (topic, advice) in enumerate(items):
            query = f"What should I do about {topic}?"
            e = EXPERTS[d]
            row = {
                "id": hashlib.sha256(f"{d}\n{query}".encode()).hexdigest()[:16],
                "domain": d,
                "source": "personahub",
                "persona_collection": "knob-test",
                "persona": "A person",
                "query": query,
                "avoidance": AVOID[i % 3].format(d=d, e=e, E=e[0].upper() + e[1:]),
                "generic": GENERIC[i % 3].format(t=topic, e=e),
                "expert": f"For {topic}: {advice}.",
                "num_paras_avoidance": 1,
                "num_paras_generic": 1,
                "num_paras_expert": 1,
                "generator": "hand-written",
                "lineage_root": None,
                "lineage_depth": None,
                "lineage_seed": None,
            }
            by_split["train" if i < 3 else "validation" if i == 3 else "test"].append(row)
    return by_split


def _knob_corpus(out):
    write_corpus(knob_rows(), out, list(TOPICS))
    return out


def _dpo(base, corpus, out, domain: str | None = None, epochs: float = 1):
    """One short TRL DPO run (IPO loss, β = 0.1, full fine-tuning) toward expert: exp ≻ gen, gen ≻ avd."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    torch.manual_seed(0)
    # the rows written to `corpus` (not re-read through datasets, whose cache is keyed by the folder name)
    rows = knob_rows()["train"]
    pairs = []
    for r in rows:
        if domain and r["domain"] != domain:
            continue
        for chosen, rejected in (("expert", "generic"), ("generic", "avoidance")):
            pairs.append(
                {
                    "prompt": [{"role": "user", "content": r["query"]}],
                    "chosen": [{"role": "assistant", "content": r[chosen]}],
                    "rejected": [{"role": "assistant", "content": r[rejected]}],
                }
            )
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    ref = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    config = DPOConfig(
        output_dir=str(out / "work"),
        loss_type=["ipo"],
        beta=0.1,
        learning_rate=8e-5,
        per_device_train_batch_size=4,
        num_train_epochs=epochs,
        max_length=96,
        bf16=False,
        gradient_checkpointing=False,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        seed=0,
        precompute_ref_log_probs=True,
    )
    trainer = DPOTrainer(
        model=model, ref_model=ref, args=config, train_dataset=Dataset.from_list(pairs), processing_class=tok
    )
    trainer.train()
    trainer.save_model(str(out / "aligned"))
    tok.save_pretrained(out / "aligned")
    return out / "aligned"


@pytest.mark.slow
def test_expert_share_rises_and_avoidance_falls_with_lambda(embedded_model, tmp_path):
    from meav.core.av import load, steer
    from meav.core.models import load_for_inference as load_model
    from meav.evaluation.evalset import Evaluator, load_eval_rows

    t0 = time.perf_counter()
    corpus = _knob_corpus(tmp_path / "corpus")
    aligned = _dpo(embedded_model, corpus, tmp_path)
    t1 = time.perf_counter()
    extract_av(embedded_model, aligned, tmp_path / "av", dtype="float32", domain="medical", target="expert")
    t2 = time.perf_counter()

    model, tok = load_model(embedded_model)
    av = load(tmp_path / "av")
    held_out = load_eval_rows(corpus, "test")
    ev = Evaluator(model, tok, held_out)
    pooled = {}
    for lam in (-1.0, 0.0, 1.0):
        steer(model, {av: lam})
        scores = [row for per_domain in ev.domain_scores().values() for row in per_domain]
        from meav.evaluation.scoring import shares

        pooled[lam] = shares(scores)
    steer(model, {})
    t3 = time.perf_counter()
    exp = {lam: s["expert"] for lam, s in pooled.items()}
    avd = {lam: s["avoidance"] for lam, s in pooled.items()}
    n = sum(len(r) for r in held_out.values())
    timing = f"DPO {t1 - t0:.0f}s, extract {t2 - t1:.0f}s, scoring {t3 - t2:.0f}s"
    measured = f"shares on {n} held-out queries: expert {exp}, avoidance {avd}; {timing}"
    print(measured)
    assert exp[1.0] > exp[0.0] > exp[-1.0], measured
    assert avd[1.0] < avd[0.0] < avd[-1.0], measured
