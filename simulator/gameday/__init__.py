"""Game days: a plan's findings injected at scheduled or seeded random times while automation and people
respond, a live scoreboard, `simulate ack` for the people, and the after-action report."""

from simulator.gameday.ack import Acknowledged, acknowledge
from simulator.gameday.loading import LoadedPlan, PlanError, load_plan, parse_plan
from simulator.gameday.plan import Entry, Plan, Player
from simulator.gameday.play import GameDay, GameDayRun
from simulator.gameday.report import AfterActionReport, FindingReport, build_report
from simulator.gameday.schedule import ScheduledFinding, build_schedule, render_schedule

__all__ = [
    "Acknowledged",
    "AfterActionReport",
    "Entry",
    "FindingReport",
    "GameDay",
    "GameDayRun",
    "LoadedPlan",
    "Plan",
    "PlanError",
    "Player",
    "ScheduledFinding",
    "acknowledge",
    "build_report",
    "build_schedule",
    "load_plan",
    "parse_plan",
    "render_schedule",
]
