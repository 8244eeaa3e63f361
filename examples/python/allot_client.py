"""A client for `allot serve`, using only Python's standard library.

    client = AllotClient("http://127.0.0.1:8470", token="router-secret")
    a = client.assign("support-bot-model", "conv-17")
    model = a["payload"]["model"] if a["payload"] else "default"
    ...
    client.outcome("support-bot-model", "conv-17", 1)

Every call returns the decoded JSON answer or raises AllotError carrying the
HTTP status and the server's message.
"""

import json
import urllib.error
import urllib.parse
import urllib.request


class AllotError(Exception):
    def __init__(self, status, message):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class AllotClient:
    def __init__(self, base_url, token=None, timeout=10.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _call(self, method, path, body=None, content_type="application/json"):
        data = None
        headers = {}
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                text = answer.read().decode()
                if answer.headers.get_content_type() == "application/json":
                    return json.loads(text)
                return text
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            try:
                message = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                message = text
            raise AllotError(e.code, message) from None

    @staticmethod
    def _id(text):
        return urllib.parse.quote(text, safe="")

    def _experiment(self, experiment, suffix=""):
        return f"/v1/experiments/{self._id(experiment)}{suffix}"

    # Admin: experiments and their arms.
    def create_experiment(self, toml_text):
        return self._call("POST", "/v1/experiments", toml_text, "application/toml")

    def start(self, experiment, at=None):
        return self._call("POST", self._experiment(experiment, "/start"),
                          {"at": at} if at else {})

    def stop(self, experiment, at=None):
        return self._call("POST", self._experiment(experiment, "/stop"),
                          {"at": at} if at else {})

    def add_arm(self, experiment, arm, config=None, initial_share=None):
        body = {"id": arm}
        if config is not None:
            body["config"] = config
        if initial_share is not None:
            body["initial_share"] = initial_share
        return self._call("POST", self._experiment(experiment, "/arms"), body)

    def retire_arm(self, experiment, arm, mode="drain"):
        return self._call("POST", self._experiment(
            experiment, f"/arms/{self._id(arm)}/retire"), {"mode": mode})

    def set_clock(self, now):
        """Only for a server started with --manual-clock."""
        return self._call("POST", "/v1/clock", {"now": now})

    # Router: assignments and outcomes.
    def assign(self, experiment, unit, unit_start=None):
        body = {"unit": unit}
        if unit_start:
            body["unit_start"] = unit_start
        return self._call("POST", self._experiment(experiment, "/assign"), body)

    def assign_batch(self, experiment, units):
        return self._call("POST", self._experiment(experiment, "/assign_batch"),
                          {"units": [{"unit": u} for u in units]})["results"]

    def outcome(self, experiment, unit, value=1, metric=None):
        body = {"unit": unit, "value": value}
        if metric:
            body["metric"] = metric
        return self._call("POST", self._experiment(experiment, "/outcomes"),
                          body)["disposition"]

    # Viewer: reports and the history.
    def report(self, experiment):
        return self._call("GET", self._experiment(experiment, "/report"))

    def reports(self, experiment):
        return self._call("GET", self._experiment(experiment, "/reports"))

    def history(self, experiment):
        return self._call("GET", self._experiment(experiment, "/history"))
