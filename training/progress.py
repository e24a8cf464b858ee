"""A rich progress bar for training steps (the bar of every long meav command lives in core.progress)."""

from __future__ import annotations

from transformers import TrainerCallback

from meav.core.progress import display


class RichProgress(TrainerCallback):
    """One bar per run: steps done of `max_steps`, shown in the current display (the demo's, or its own)."""

    def __init__(self, name: str):
        self.name = name
        self._context = None
        self._bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self._context = display()
            bars = self._context.__enter__()
            self._bar = (
                bars,
                bars.add_task(f"train {self.name}", total=state.max_steps, completed=state.global_step),
            )

    def on_step_end(self, args, state, control, **kwargs):
        if self._bar:
            bars, task = self._bar
            bars.update(task, completed=state.global_step)

    def on_train_end(self, args, state, control, **kwargs):
        if self._context is not None:
            self._context.__exit__(None, None, None)
            self._context = self._bar = None
