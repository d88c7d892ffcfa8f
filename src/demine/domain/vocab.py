"""Controlled vocabularies of the field (IMAS 04.10 terms), one enum per code list."""

from enum import StrEnum


class OrganisationKind(StrEnum):
    """What kind of body an organisation is."""

    AUTHORITY = "authority"
    OPERATOR = "operator"
    NGO = "ngo"
    MILITARY = "military"
    COMMERCIAL = "commercial"
    DONOR = "donor"


class TeamMethod(StrEnum):
    """The asset or method a team works with."""

    MANUAL = "manual"
    MECHANICAL = "mechanical"
    MDD = "mdd"
    BAC = "bac"
    EOD = "eod"
    NTS = "nts"
    TS = "ts"


class HazardType(StrEnum):
    """SHA: suspected (indirect evidence); CHA: confirmed (direct evidence)."""

    SHA = "SHA"
    CHA = "CHA"


class HazardStatus(StrEnum):
    """Life cycle of a hazardous area."""

    OPEN = "open"
    WORKED_ON = "worked_on"
    CLOSED = "closed"


class ActivityKind(StrEnum):
    """Land release and related activities on a hazard."""

    NTS = "nts"
    TS = "ts"
    CLEARANCE = "clearance"
    BAC = "bac"
    EOD_SPOT_TASK = "eod_spot_task"
    PCI = "pci"


class ReleaseKind(StrEnum):
    """How land was released: cancelled (NTS), reduced (TS), cleared (clearance/BAC)."""

    CANCELLED = "cancelled"
    REDUCED = "reduced"
    CLEARED = "cleared"


RELEASE_KIND_OF_ACTIVITY: dict[ActivityKind, ReleaseKind] = {
    ActivityKind.NTS: ReleaseKind.CANCELLED,
    ActivityKind.TS: ReleaseKind.REDUCED,
    ActivityKind.CLEARANCE: ReleaseKind.CLEARED,
    ActivityKind.BAC: ReleaseKind.CLEARED,
}


class ActivityStatus(StrEnum):
    """Progress of an activity."""

    PLANNED = "planned"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    SUSPENDED = "suspended"


class EOCategory(StrEnum):
    """Explosive ordnance categories."""

    AP_MINE = "ap_mine"
    AT_MINE = "at_mine"
    UXO = "uxo"
    AXO = "axo"
    SUBMUNITION = "submunition"
    IED = "ied"
    BOOBY_TRAP = "booby_trap"


class FuzeState(StrEnum):
    """Condition of an item's fuze when found."""

    ARMED = "armed"
    UNARMED = "unarmed"
    DAMAGED = "damaged"
    NO_FUZE = "no_fuze"
    UNKNOWN = "unknown"


class Disposal(StrEnum):
    """What was done with an EO item."""

    DESTROYED_IN_SITU = "destroyed_in_situ"
    REMOVED = "removed"
    RENDERED_SAFE = "rendered_safe"
    PENDING = "pending"


DESTROYED_DISPOSALS = (Disposal.DESTROYED_IN_SITU, Disposal.REMOVED, Disposal.RENDERED_SAFE)


class EvidenceCategory(StrEnum):
    """Why an area is believed contaminated."""

    ACCIDENT = "accident"
    EO_SIGHTED = "eo_sighted"
    MINEFIELD_RECORD = "minefield_record"
    FORMER_FRONT_LINE = "former_front_line"
    SHELLING = "shelling"
    AIRSTRIKE = "airstrike"
    INFORMANT = "informant"
    FENCING_OR_MARKING = "fencing_or_marking"


class Blockage(StrEnum):
    """What the land is needed for."""

    AGRICULTURE = "agriculture"
    GRAZING = "grazing"
    HOUSING = "housing"
    ROAD = "road"
    WATER = "water"
    INFRASTRUCTURE = "infrastructure"
    FOREST = "forest"
    SCHOOL = "school"
    HEALTH = "health"


class AccidentKind(StrEnum):
    """Accident (an explosion causing harm) versus incident (no harm)."""

    ACCIDENT = "accident"
    INCIDENT = "incident"


class CasualtyOutcome(StrEnum):
    """Killed or injured."""

    KILLED = "killed"
    INJURED = "injured"


class Sex(StrEnum):
    """Sex as recorded for disaggregated data."""

    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class AgeBand(StrEnum):
    """Age bands used in disaggregated reporting."""

    CHILD = "0-17"
    ADULT = "18-59"
    ELDER = "60+"
    UNKNOWN = "unknown"


class CasualtyRole(StrEnum):
    """Civilian or deminer."""

    CIVILIAN = "civilian"
    DEMINER = "deminer"
    MILITARY = "military"


class EoreAudience(StrEnum):
    """Who an EORE session was held for."""

    COMMUNITY = "community"
    SCHOOL = "school"
    RETURNEES = "returnees"
    FARMERS = "farmers"
    HUMANITARIAN_STAFF = "humanitarian_staff"


class InspectionKind(StrEnum):
    """QA/QC inspection kinds."""

    ACCREDITATION = "accreditation"
    MONITORING_VISIT = "monitoring_visit"
    QC_SAMPLING = "qc_sampling"


class InspectionResult(StrEnum):
    """Outcome of an inspection."""

    PASS = "pass"
    CONDITIONAL = "conditional"
    FAIL = "fail"


class Severity(StrEnum):
    """Non-conformity severity."""

    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class Sensitivity(StrEnum):
    """Need-to-know level of a record."""

    PUBLIC = "public"
    SHARED = "shared"
    RESTRICTED = "restricted"
    CONFIDENTIAL = "confidential"


class ReviewStatus(StrEnum):
    """Review state of operator data."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
