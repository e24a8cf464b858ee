"""`meav serve` with the embedded SmolLM2-135M and a medical AV trained on the reference corpus: one medical
question at λ = +1 and at λ = −1.5 gets two different answers, each the one offline steering gives."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from meav.core.av import load, steer
from tests.serving.conftest import start_server
from tests.serving.test_serve import ask, client

QUESTION = (
    "I am 52 and my GP says my blood pressure readings at home average 152/94 even though I take amlodipine 5 mg "
    "every morning. I cut down on salt two months ago. What should happen next?"
)


@pytest.mark.slow
def test_lambda_per_request_changes_the_answer_as_offline_steering_does(embedded_model, reference_medical_av):
    server = start_server("--base", embedded_model, "--av", f"medical={reference_medical_av}")
    try:
        model = client(server).models.list().data[0].id  # the base: its folder's name
        answers = {lam: ask(server, model, QUESTION, {"medical": lam}, max_tokens=48) for lam in (1.0, -1.5)}
    finally:
        server.stop()
    tok = AutoTokenizer.from_pretrained(embedded_model)
    model = AutoModelForCausalLM.from_pretrained(embedded_model, dtype=torch.float32).eval()
    prompt = tok(tok.apply_chat_template([{"role": "user", "content": QUESTION}], tokenize=False, add_generation_prompt=True),
                 return_tensors="pt", add_special_tokens=False)  # fmt: skip
    for lam, answer in answers.items():
        steer(model, {load(reference_medical_av): lam})
        with torch.inference_mode():
            out = model.generate(**prompt, max_new_tokens=48, do_sample=False)
        assert answer == tok.decode(out[0, prompt["input_ids"].shape[1] :], skip_special_tokens=True), lam
    assert answers[1.0] != answers[-1.5] and all(a.strip() for a in answers.values())
