"""`with steered(model, {av: λ}):` puts the model back bit for bit on exit, also when the block raises."""

from __future__ import annotations

import pytest
import torch

from meav.core.av import current_weights, load, steer, steered


def snapshot(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(model, snap: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(v, snap[k]) for k, v in model.state_dict().items())


@pytest.fixture
def model(llama_pair):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(llama_pair[0], dtype=torch.float32)


def test_restores_the_base_exactly_on_exit_and_on_an_exception(model, llama_pair):
    av = load(llama_pair[2])
    base = snapshot(model)
    with steered(model, {av: 0.7}) as m:
        assert m is model and current_weights(model) == {av: 0.7}
        assert not same(model, base)
    assert same(model, base) and current_weights(model) == {}
    with pytest.raises(ValueError, match="inside"), steered(model, {av: -1.3}):
        assert not same(model, base)
        raise ValueError("inside the block")
    assert same(model, base) and current_weights(model) == {}


def test_nested_blocks_return_to_the_outer_steering(model, llama_pair, llama_pair2):
    med, leg = load(llama_pair[2]), load(llama_pair2[2])
    steer(model, {med: 0.3})
    outer = snapshot(model)
    with steered(model, {med: 0.3, leg: 1.0}):
        with steered(model, {leg: -2.0}):
            assert current_weights(model) == {leg: -2.0}
        assert current_weights(model) == {med: 0.3, leg: 1.0}
    assert same(model, outer) and current_weights(model) == {med: 0.3}
