"""`simulate list scenarios|types|purposes|chaos`."""

from __future__ import annotations

import argparse

from tabulate import tabulate

from simulator import catalog

KINDS = ("scenarios", "types", "purposes", "chaos")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", nargs="?", default="scenarios", choices=KINDS)


def run(args: argparse.Namespace) -> int:
    if args.kind == "types":
        rows = [(t.name, t.threat_purpose, t.resource_type or "-", "/".join(t.severity_labels))
                for t in sorted(catalog.active_types().values(), key=lambda t: t.name)]
        print(tabulate(rows, headers=["type", "purpose", "resource", "severity"]))
    elif args.kind == "purposes":
        counts: dict[str, int] = {}
        for finding_type in catalog.active_types().values():
            counts[finding_type.threat_purpose] = counts.get(finding_type.threat_purpose, 0) + 1
        rows2 = [(name, counts.get(name, 0), row["meaning"]) for name, row in sorted(catalog.threat_purposes().items())]
        print(tabulate(rows2, headers=["purpose", "active types", "meaning"], maxcolwidths=[None, None, 80]))
    elif args.kind == "scenarios":
        from simulator.scenario import list_scenarios

        rows3 = [(s.id, s.threat_purpose, ", ".join(s.finding_types), s.urgency,
                  ", ".join(f"{step.id} {step.within_text}" for step in s.steps)) for s in list_scenarios()]
        print(tabulate(rows3, headers=["scenario", "purpose", "finding types", "urgency", "steps (SLA)"],
                       maxcolwidths=[None, None, 40, None, 60]))
    else:
        from simulator.chaos import list_profiles

        rows4 = [(profile.name, profile.description) for profile in list_profiles()]
        print(tabulate(rows4, headers=["chaos profile", "what goes wrong"], maxcolwidths=[None, 90]))
    return 0
