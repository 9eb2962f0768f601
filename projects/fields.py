"""The projects module's enumerations (its other fields use the core's checks and the
compliance module's: calendar_day, sha256, label, tonnes, optional_id)."""

from __future__ import annotations

import enum


class MethodologyAction(enum.StrEnum):
    supersede = "supersede"  # a newer version replaces it
    withdraw = "withdraw"  # it is no longer sound


class ExistingProjects(enum.StrEnum):
    """What retiring a methodology means for the projects registered under it."""

    keep = "keep"  # their crediting periods run on
    end = "end"  # their crediting periods end: nothing more is issued to them


class ProjectAction(enum.StrEnum):
    suspend = "suspend"  # future issuance stops until reinstated
    reinstate = "reinstate"
    deregister = "deregister"  # for good


class ClaimPurpose(enum.StrEnum):
    event = "event"  # a named event (a conference, a games), by its stable identifier
    product = "product"  # a product, by its stable identifier (a GTIN, a model number)
    organisation = "organisation"  # an organisation's own emissions
    period = "period"  # a period's emissions of the beneficiary


ENUMS: dict[str, type[enum.Enum]] = {
    "MethodologyAction": MethodologyAction, "ExistingProjects": ExistingProjects,
    "ProjectAction": ProjectAction, "ClaimPurpose": ClaimPurpose,
}
