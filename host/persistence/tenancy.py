"""Every object belongs to an organization: one mechanism, in one place (SQLAlchemy's multi-tenancy recipe).

- ``OrgOwned`` tables (agents, blocks, sources, identities, sandbox configs, jobs and runs, groups, archives)
  carry ``organization_id``; ``OrgShared`` ones (tools, MCP servers) too, where NULL means every
  organization's (built-in tools, the operator's ``mcp_config.json`` servers).
- Tables reached through a parent (messages, steps, passages, files, conversations, env vars, an agent's
  links to its tags, blocks and tools...) are scoped through it: the criteria below name the parent's ids
  of the organization.
- ``do_orm_execute`` adds these criteria (``with_loader_criteria``) to every ORM SELECT, UPDATE and DELETE
  while the current actor (host.domain.actor) is scoped; ``before_flush`` gives new rows the actor's
  organization. So another organization's object is simply absent: a get finds nothing (404), a list omits
  it, an attach cannot resolve it.
- Core statements (``conn.execute(table...)`` on hot paths) bypass ORM events: they act only on ids that
  a route resolved through a scoped lookup first. Core INSERTs of owned rows set ``organization_id``.
- The system actor (lifespans, workers, recovery, the CLI) is unscoped and sees every organization.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, event, or_, select, true
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from host.domain.actor import current_actor
from host.persistence import models as m
from host.persistence.models import OrgOwned, OrgShared


def scope_org() -> str | None:
    """The organization the current actor is confined to; None for the (unscoped) system."""
    actor = current_actor()
    return actor.organization_id if actor.scoped else None


def same_namespace(model: type[OrgOwned] | type[OrgShared]) -> ColumnElement[bool]:
    """The rows a new row of the current actor shares its names with (names are unique per organization, 0013).

    A scoped actor: its organization's and (``OrgShared``) every organization's rows; the scoping adds that
    to every ORM statement already, so nothing more here. The system: what it creates is the default
    organization's (``OrgOwned``) or every organization's (``OrgShared``, NULL), so those rows only."""
    if scope_org() is not None:
        return true()
    if issubclass(model, OrgShared):
        return model.organization_id.is_(None)
    return model.organization_id == current_actor().organization_id


def _owned_ids(model: Any, org: str) -> Any:
    return select(model.id).where(model.organization_id == org)


def _criteria(org: str) -> list[Any]:
    agents = _owned_ids(m.AgentRow, org)
    sources = _owned_ids(m.SourceRow, org)
    jobs = _owned_ids(m.JobRow, org)
    children: list[tuple[Any, Any]] = [  # tables reached through an owned parent
        *((link, link.agent_id.in_(agents)) for link in (  # an agent's links (tags, blocks, tools...)
            m.AgentTagRow, m.AgentBlockRow, m.AgentToolRow, m.AgentSourceRow, m.FileAgentRow, m.ArchiveAgentRow,
            m.IdentityAgentRow, m.GroupAgentRow)),
        (m.IdentityBlockRow, m.IdentityBlockRow.identity_id.in_(_owned_ids(m.IdentityRow, org))),
        (m.GroupBlockRow, m.GroupBlockRow.group_id.in_(_owned_ids(m.GroupRow, org))),
        (m.MessageRow, m.MessageRow.agent_id.in_(agents)),
        (m.StepRow, m.StepRow.agent_id.in_(agents)),
        (m.ConversationRow, m.ConversationRow.agent_id.in_(agents)),
        (m.ProviderTraceRow, m.ProviderTraceRow.agent_id.in_(agents)),
        (m.FileRow, m.FileRow.source_id.in_(sources)),
        (m.PassageRow, or_(m.PassageRow.agent_id.in_(agents), m.PassageRow.source_id.in_(sources),
                           m.PassageRow.archive_id.in_(_owned_ids(m.ArchiveRow, org)))),
        (m.SandboxEnvVarRow, m.SandboxEnvVarRow.sandbox_config_id.in_(_owned_ids(m.SandboxConfigRow, org))),
        (m.BatchItemRow, m.BatchItemRow.batch_id.in_(jobs)),
        (m.RunEventRow, m.RunEventRow.run_id.in_(jobs)),
    ]
    return [
        with_loader_criteria(OrgOwned, lambda cls: cls.organization_id == org, include_aliases=True),
        with_loader_criteria(OrgShared, lambda cls: or_(cls.organization_id == org, cls.organization_id.is_(None)),
                             include_aliases=True),
        *(with_loader_criteria(model, where, include_aliases=True) for model, where in children),
    ]


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return
    org = scope_org()
    if org is not None:
        state.statement = state.statement.options(*_criteria(org))


@event.listens_for(Session, "before_flush")
def _own_new_rows(session: Session, _context: Any, _instances: Any) -> None:
    actor = current_actor()
    for obj in session.new:
        if isinstance(obj, OrgOwned) and obj.organization_id is None:
            obj.organization_id = actor.organization_id
        elif isinstance(obj, OrgShared) and obj.organization_id is None and actor.scoped:
            obj.organization_id = actor.organization_id  # (created by the system: NULL, every organization's)


__all__ = ["OrgOwned", "OrgShared", "same_namespace", "scope_org"]
