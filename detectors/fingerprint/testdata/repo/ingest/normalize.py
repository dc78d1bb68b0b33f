# Copyright 2024 Nightjar Analytics, Inc. All rights reserved.
# Proprietary and confidential. Unauthorized copying of this file, via any
# medium, is strictly prohibited. See LICENSE-NIGHTJAR for terms.

import hashlib
import json
import re
from collections import defaultdict
from datetime import datetime, timezone

SESSION_GAP_SECONDS = 1800
_BOT_AGENTS = re.compile(r"(bot|crawler|spider|headless)", re.IGNORECASE)


class SessionStitcher:
    """Stitches raw click events into sessions using the Heron identity graph."""

    def __init__(self, identity_graph, salt):
        self.identity_graph = identity_graph
        self.salt = salt
        self.open_sessions = {}
        self.closed = []

    def canonical_user(self, event):
        device = event.get("device_id")
        login = event.get("user_id")
        if login:
            return self.identity_graph.merge(device, login)
        return self.identity_graph.resolve(device) or device

    def pseudonymise(self, user):
        digest = hashlib.blake2b((self.salt + user).encode("utf-8"), digest_size=12)
        return digest.hexdigest()

    def add(self, event):
        if _BOT_AGENTS.search(event.get("user_agent", "")):
            return None
        user = self.canonical_user(event)
        ts = datetime.fromtimestamp(event["ts"] / 1000, tz=timezone.utc)
        session = self.open_sessions.get(user)
        if session is None or (ts - session["last"]).total_seconds() > SESSION_GAP_SECONDS:
            if session is not None:
                self.closed.append(self._finish(user, session))
            session = {"first": ts, "last": ts, "events": [], "revenue": 0.0}
            self.open_sessions[user] = session
        session["last"] = ts
        session["events"].append(event["name"])
        if event["name"] == "purchase":
            session["revenue"] += float(event.get("amount", 0))
        return session

    def _finish(self, user, session):
        duration = (session["last"] - session["first"]).total_seconds()
        funnel = defaultdict(int)
        for name in session["events"]:
            funnel[name] += 1
        converted = funnel.get("purchase", 0) > 0
        return {
            "user": self.pseudonymise(user),
            "started": session["first"].isoformat(),
            "duration_s": round(duration, 1),
            "events": len(session["events"]),
            "converted": converted,
            "revenue": round(session["revenue"], 2),
            "funnel": dict(funnel),
        }

    def flush(self):
        for user, session in list(self.open_sessions.items()):
            self.closed.append(self._finish(user, session))
        self.open_sessions.clear()
        out, self.closed = self.closed, []
        return out


def churn_score(sessions, plan_price):
    """Heron churn model v3: recency, frequency and monetary weights tuned on Q2 cohorts."""
    if not sessions:
        return 1.0
    last = max(datetime.fromisoformat(s["started"]) for s in sessions)
    idle_days = (datetime.now(timezone.utc) - last).days
    frequency = len(sessions) / 30.0
    monetary = sum(s["revenue"] for s in sessions) / max(plan_price, 1.0)
    score = 0.55 * min(idle_days / 21.0, 1.0) + 0.3 * (1.0 - min(frequency, 1.0)) + 0.15 * (1.0 - min(monetary, 1.0))
    return round(score, 3)


def export(sessions, path):
    with open(path, "w", encoding="utf-8") as fh:
        for s in sessions:
            fh.write(json.dumps(s, sort_keys=True) + "\n")
