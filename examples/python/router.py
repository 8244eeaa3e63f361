"""A model router in Python against `allot serve` (standard library only).

Each request is a conversation: the router asks allot which prompt variant
serves it, sends the request to the model with that variant's settings (the
arm's payload: model, temperature, system prompt) and reports whether the
answer resolved the conversation. Backends are simulated: how often an
answer resolves depends on the prompt.

    python3 examples/python/router.py --url http://127.0.0.1:8470 \
        --experiment examples/experiments/prompt-variants.toml --requests 3000

With a server started with --manual-clock, --step moves its clock on per
request (simulated time, so reallocations happen within seconds).
"""

import argparse
import datetime
import random
import sys

from allot_client import AllotClient, AllotError

# How often an answer resolves the conversation, by the first word of the
# variant's system prompt (a stand-in for calling the model).
RESOLVE_RATE = {"Answer": 0.10}
BY_STYLE = {"step": 0.16, "two": 0.11, "warmly": 0.09}


def resolves(payload, rng):
    prompt = (payload or {}).get("system_prompt", "")
    rate = next((r for word, r in BY_STYLE.items() if word in prompt), 0.10)
    return rng.random() < rate


def experiment_id(toml_text):
    for line in toml_text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "id":
            return value.split("#")[0].strip().strip('"')
    raise ValueError("the experiment file has no id")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--experiment", required=True, help="experiment TOML file")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--admin-token")
    parser.add_argument("--router-token")
    parser.add_argument("--viewer-token")
    parser.add_argument("--step", type=float, default=0,
                        help="seconds the manual clock moves per request (0: wall clock)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    admin = AllotClient(args.url, args.admin_token)
    router = AllotClient(args.url, args.router_token)
    viewer = AllotClient(args.url, args.viewer_token)
    toml_text = open(args.experiment, encoding="utf-8").read()
    experiment = experiment_id(toml_text)
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)

    def at(seconds):
        return (start + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

    if args.step:
        admin.set_clock(at(0))
    try:
        admin.create_experiment(toml_text)
        admin.start(experiment)
        print(f"created and started {experiment}")
    except AllotError as e:
        if e.status != 409:  # already there (a restarted router): go on
            raise
        print(f"{experiment} already exists: {e.message}")

    rng = random.Random(args.seed)
    served, resolved, errors = {}, 0, 0
    for k in range(args.requests):
        if args.step and k % 50 == 0:
            admin.set_clock(at(k * args.step))
        unit = f"conv-{args.seed}-{k}"
        try:
            a = router.assign(experiment, unit)
        except AllotError as e:
            errors += 1
            print(f"assign {unit}: {e}", file=sys.stderr)
            continue
        served[a["arm"]] = served.get(a["arm"], 0) + 1
        if resolves(a["payload"], rng):
            resolved += 1
            router.outcome(experiment, unit, 1)
    if args.step:
        admin.set_clock(at(args.requests * args.step))

    print(f"served {args.requests} requests ({errors} errors), {resolved} resolved")
    for arm, n in sorted(served.items()):
        print(f"  {arm:14s} {n:6d} requests")
    try:
        report = viewer.report(experiment)
    except AllotError as e:
        print(f"no report yet: {e.message}")
        return 0 if errors == 0 else 1
    weights = report["weights_after"]
    print(f"latest report: epoch {report['epoch']}, {report['reason']}")
    for arm, figures in report["arms"].items():
        mean = figures["mean"] if figures["mean"] is not None else float("nan")
        print(f"  {arm:14s} units {figures['units']:6d}  mean {mean:.4f}  "
              f"P(best) {figures['p_best']:.3f}  weight {weights[arm]:.3f}")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
