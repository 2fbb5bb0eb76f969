"""A person acknowledging a finding of a running game day: the record the escalation ladder reads before
paging the next level, written the way the simulated on-call writes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from simulator.errors import SandboxError, UsageError
from simulator.gameday.state import findings_named, read_running_state
from simulator.gameday.watch import acknowledgement_fields
from simulator.oncall import write_acknowledgement
from simulator.stepfunctions.names import ACK_KEY
from simulator.targets.base import Credentials, Sandbox


@dataclass(frozen=True)
class Acknowledged:
    key: str
    finding_id: str
    scenario: str
    level: int
    contact: str | None  # the paged level's contact
    by: str
    levels_paged: list[int]
    next_level: int | None  # the level the ladder will no longer page
    state_file: Path


def find_finding(reference: str, findings: list[dict[str, Any]]) -> dict[str, Any]:
    """The finding ``reference`` names: its scoreboard key (F2) or a unique prefix of its id."""
    wanted = reference.strip().lower()
    if not wanted:
        raise UsageError("name the finding to acknowledge: its id (a unique prefix is enough) or its key (F2)")
    matches = findings_named(wanted, findings)
    known = ", ".join(f"{item.get('key')} {item.get('finding_id')}" for item in findings) or "none injected yet"
    if not matches:
        raise UsageError(f"no finding {reference!r} in the running game day (findings: {known})")
    if len(matches) > 1:
        names = ", ".join(f"{item.get('key')} {item.get('finding_id')}" for item in matches)
        raise UsageError(f"{reference!r} names {len(matches)} findings ({names}); give more of the id")
    return matches[0]


def _sandbox(finding: dict[str, Any]) -> Sandbox:
    if not finding.get("endpoint_url") or not finding.get("access_key_id"):
        raise UsageError(f"{finding.get('key')} ({finding.get('scenario')}) has ended: "
                         "its sandbox is gone, nothing is left to acknowledge")
    credentials = Credentials(str(finding["access_key_id"]), str(finding.get("secret_access_key") or ""),
                              finding.get("session_token") or None)
    return Sandbox(name="moto", endpoint_url=str(finding["endpoint_url"]), region=str(finding.get("region")),
                   account_id=str(finding.get("account_id")), credentials=credentials)


def acknowledge(reference: str, *, by: str, pointer_dir: Path, gameday: Path | None = None,
                level: int | None = None) -> Acknowledged:
    """Acknowledge a finding of the running game day as ``by``, at ``level`` (default: the last level paged,
    or 1 before any page). UsageError when no game day runs, the finding is unknown or already acknowledged."""
    state_path, state = read_running_state(gameday, pointer_dir, reference)
    finding = find_finding(reference, list(state.get("findings") or []))
    key, finding_id = str(finding.get("key")), str(finding.get("finding_id") or "")
    if not finding_id:
        raise UsageError(f"{key} has no finding id yet (it is not injected)")
    paged = sorted(int(level) for level in finding.get("levels_paged") or [])
    levels = {int(item["level"]): item.get("contact") for item in finding.get("levels") or []}
    chosen = level if level is not None else (paged[-1] if paged else 1)
    if levels and chosen not in levels:
        raise UsageError(f"--level {chosen}: {key} ({finding.get('scenario')}) has levels "
                         f"{', '.join(map(str, sorted(levels)))}")
    table = str(finding.get("table_name") or "")
    client = _sandbox(finding).client("dynamodb")
    try:
        item = client.get_item(TableName=table, Key={ACK_KEY: {"S": finding_id}}, ConsistentRead=True).get("Item")
        if item and "level" in item:
            raise UsageError(_already(key, acknowledgement_fields(item)))
        if not write_acknowledgement(client, table, finding_id, level=chosen, contact=by):
            item = client.get_item(TableName=table, Key={ACK_KEY: {"S": finding_id}}, ConsistentRead=True).get("Item")
            raise UsageError(_already(key, acknowledgement_fields(item or {})))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise UsageError(f"{key} ({finding.get('scenario')}): nothing in its run reads acknowledgements "
                             "(no escalation table: its responder has no escalation ladder)") from None
        raise SandboxError(f"acknowledging {key} failed: {error}") from None
    except BotoCoreError as error:
        raise UsageError(f"{key} ({finding.get('scenario')}) cannot be reached: {error} "
                         "(its run has probably just ended)") from None
    above = sorted(number for number in levels if number > chosen)
    return Acknowledged(key=key, finding_id=finding_id, scenario=str(finding.get("scenario")), level=chosen,
                        contact=levels.get(chosen), by=by, levels_paged=paged,
                        next_level=above[0] if above else None, state_file=state_path)


def _already(key: str, fields: dict[str, Any]) -> str:
    who = fields.get("contact") or "someone"
    at = fields.get("acknowledged_at") or "earlier"
    return f"{key} is already acknowledged (by {who} at level {fields.get('level')}, {at})"
