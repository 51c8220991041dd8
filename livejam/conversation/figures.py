"""The live figures the screen and the headless summary show: model step time,
answer onset, how late sends were, events in, answers. Cheap to read (a view
looks about once a second); `activity()` says cheaply whether anything changed."""
from __future__ import annotations

import numpy as np


class Figures:
    def __init__(self, engine) -> None:
        self.engine = engine

    def reset(self) -> None:
        eng = self.engine
        eng.model.step_seconds.clear()
        eng.conversation.onsets.clear()
        eng.scheduler.lateness.clear()
        eng.events_in = eng.answers = eng.scheduler.late = 0

    def activity(self) -> tuple:
        """Changes whenever a figure may have: a cheap check before reading them."""
        eng = self.engine
        return eng.model.runs, eng.events_in, eng.answers, eng.scheduler.sent

    def read(self) -> dict:
        eng = self.engine
        model, sched = eng.model, eng.scheduler
        steps = np.array(model.step_seconds) * 1000 if model.step_seconds else np.zeros(1)
        onsets = np.array(eng.conversation.onsets) * 1000 if eng.conversation.onsets else None
        late = np.maximum(np.array(sched.lateness), 0) * 1000 if sched.lateness else np.zeros(1)
        return {
            "step_ms_p50": float(np.percentile(steps, 50)), "step_ms_p99": float(np.percentile(steps, 99)),
            "onset_ms_last": float(onsets[-1]) if onsets is not None else None,
            "onset_ms_p95": float(np.percentile(onsets, 95)) if onsets is not None else None,
            "send_late_ms_p50": float(np.percentile(late, 50)), "send_late_ms_p99": float(np.percentile(late, 99)),
            "late": sched.late, "events_in": eng.events_in, "answers": eng.answers,
            "style_notes": eng.conversation.style.size,
        }
