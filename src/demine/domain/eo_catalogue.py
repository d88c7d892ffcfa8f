"""Reference catalogue of common explosive ordnance (EO) models, used to type EO finds.

Entries are short factual summaries (model, category, origin, type) of the kind published in
public EO identification references such as the GICHD Explosive Ordnance Guide for Ukraine
(2nd ed., 2023), CAT-UXO (Collective Awareness to UXO) and the IMAS 04.10 glossary for the
category terms. No text or images are reproduced from those sources.
"""

from __future__ import annotations

from dataclasses import dataclass

from demine.domain.vocab import EOCategory


@dataclass(frozen=True, slots=True)
class EOModel:
    """One explosive ordnance model: code, category, origin and a one-line description."""

    code: str
    category: EOCategory
    origin: str
    description: str


_AP = EOCategory.AP_MINE
_AT = EOCategory.AT_MINE
_UXO = EOCategory.UXO
_AXO = EOCategory.AXO
_SUB = EOCategory.SUBMUNITION
_IED = EOCategory.IED
_BT = EOCategory.BOOBY_TRAP
_IMP = "improvised"

EO_MODELS: tuple[EOModel, ...] = (
    # Anti-personnel mines
    EOModel("PFM-1", _AP, "USSR", "scatterable blast AP mine, liquid explosive"),
    EOModel("PFM-1S", _AP, "USSR", "scatterable blast AP mine, liquid explosive, self-destruct"),
    EOModel("PMN", _AP, "USSR", "pressure-operated blast AP mine, bakelite body"),
    EOModel("PMN-2", _AP, "USSR", "pressure-operated blast AP mine, plastic body, cross plate"),
    EOModel("PMN-4", _AP, "Russia", "pressure-operated blast AP mine, plastic body"),
    EOModel("PMD-6", _AP, "USSR", "pressure-operated blast AP mine, wooden box"),
    EOModel("OZM-3", _AP, "USSR", "bounding fragmentation AP mine, tripwire or command"),
    EOModel("OZM-4", _AP, "USSR", "bounding fragmentation AP mine, tripwire or command"),
    EOModel("OZM-72", _AP, "USSR", "bounding fragmentation AP mine, steel-ball liner"),
    EOModel("POMZ-2M", _AP, "USSR", "stake-mounted fragmentation AP mine, tripwire"),
    EOModel("POM-2", _AP, "USSR", "scatterable fragmentation AP mine, tripwire sensors"),
    EOModel("POM-3", _AP, "Russia", "scatterable bounding fragmentation AP mine, seismic fuze"),
    EOModel("MON-50", _AP, "USSR", "directional fragmentation AP mine, Claymore type"),
    EOModel("MON-90", _AP, "USSR", "directional fragmentation AP mine, large"),
    EOModel("MON-100", _AP, "USSR", "directional fragmentation AP mine, dish-shaped"),
    EOModel("MON-200", _AP, "USSR", "directional fragmentation AP mine, large dish-shaped"),
    EOModel("PMA-1", _AP, "Yugoslavia", "pressure-operated blast AP mine, plastic box"),
    EOModel("PMA-2", _AP, "Yugoslavia", "pressure-operated blast AP mine, plastic, star fuze"),
    EOModel("PMA-3", _AP, "Yugoslavia", "pressure-operated blast AP mine, minimum metal"),
    EOModel("PROM-1", _AP, "Yugoslavia", "bounding fragmentation AP mine, tripwire or pressure"),
    EOModel("PMR-2A", _AP, "Yugoslavia", "stake-mounted fragmentation AP mine, tripwire"),
    EOModel("VS-50", _AP, "Italy", "scatterable blast AP mine, minimum metal"),
    EOModel("TS-50", _AP, "Italy", "scatterable blast AP mine, minimum metal"),
    EOModel("VS-MK2", _AP, "Italy", "scatterable blast AP mine, minimum metal"),
    EOModel("Valmara 69", _AP, "Italy", "bounding fragmentation AP mine, tripwire or pressure"),
    EOModel("Type-72", _AP, "China", "pressure-operated blast AP mine, minimum metal"),
    EOModel("M14", _AP, "USA", "pressure-operated blast AP mine, minimum metal"),
    EOModel("M16A2", _AP, "USA", "bounding fragmentation AP mine, tripwire or pressure"),
    EOModel("M18A1", _AP, "USA", "directional fragmentation AP mine, Claymore"),
    EOModel("PRB M409", _AP, "Belgium", "pressure-operated blast AP mine, minimum metal"),
    EOModel("DM-31", _AP, "Germany", "bounding fragmentation AP mine"),
    # Anti-tank mines
    EOModel("TM-62M", _AT, "USSR", "blast AT mine, metal case, pressure fuze"),
    EOModel("TM-62P3", _AT, "USSR", "blast AT mine, plastic case, pressure fuze"),
    EOModel("TM-57", _AT, "USSR", "blast AT mine, metal case, pressure fuze"),
    EOModel("TM-46", _AT, "USSR", "blast AT mine, metal case, pressure or tilt-rod fuze"),
    EOModel("TM-72", _AT, "USSR", "shaped-charge AT mine, magnetic influence fuze"),
    EOModel("TM-83", _AT, "USSR", "off-route side-attack AT mine, seismic and IR sensors"),
    EOModel("PTM-1", _AT, "USSR", "scatterable blast AT mine, liquid explosive"),
    EOModel("PTM-3", _AT, "USSR", "scatterable shaped-charge AT mine, magnetic fuze"),
    EOModel("TMA-3", _AT, "Yugoslavia", "blast AT mine, plastic, minimum metal"),
    EOModel("TMRP-6", _AT, "Yugoslavia", "EFP AT mine, tilt-rod or pressure fuze"),
    EOModel("VS-1.6", _AT, "Italy", "scatterable blast AT mine, minimum metal"),
    EOModel("M15", _AT, "USA", "blast AT mine, metal case, pressure fuze"),
    EOModel("M19", _AT, "USA", "blast AT mine, plastic case, minimum metal"),
    EOModel("Mk7", _AT, "UK", "blast AT mine, metal case, pressure fuze"),
    EOModel("DM-21", _AT, "Germany", "EFP AT mine, pressure or tilt-rod fuze"),
    # Submunitions
    EOModel("9N210", _SUB, "USSR", "fragmentation submunition, 9M27K/9M55K rocket cargo"),
    EOModel("9N235", _SUB, "USSR", "fragmentation submunition, 9M27K1/9M55K4 rocket cargo"),
    EOModel("9N24", _SUB, "USSR", "fragmentation submunition, Tochka-U cluster warhead"),
    EOModel("M77", _SUB, "USA", "DPICM shaped-charge/fragmentation submunition, MLRS"),
    EOModel("M42", _SUB, "USA", "DPICM shaped-charge/fragmentation submunition, artillery"),
    EOModel("PTAB-1M", _SUB, "USSR", "anti-armour shaped-charge bomblet, RBK cluster bomb"),
    EOModel("PTAB-2.5M", _SUB, "USSR", "anti-armour shaped-charge bomblet, RBK cluster bomb"),
    EOModel("BLU-97/B", _SUB, "USA", "combined-effects bomblet, CBU-87"),
    EOModel("ShOAB-0.5", _SUB, "USSR", "spherical fragmentation bomblet, RBK cluster bomb"),
    EOModel("AO-2.5RT", _SUB, "USSR", "fragmentation bomblet, RBK cluster bomb"),
    EOModel("3-O-8", _SUB, "USSR", "fragmentation submunition, 122 mm cargo projectile"),
    # Unexploded ordnance
    EOModel("VOG-17", _UXO, "USSR", "30 mm HE-fragmentation grenade, AGS-17 launcher"),
    EOModel("VOG-25", _UXO, "USSR", "40 mm HE-fragmentation grenade, GP-25 underbarrel"),
    EOModel("122mm-rocket-9M22", _UXO, "USSR", "122 mm HE-fragmentation rocket, Grad MLRS"),
    EOModel("220mm-rocket-9M27", _UXO, "USSR", "220 mm rocket, Uragan MLRS"),
    EOModel("300mm-rocket-9M55", _UXO, "USSR", "300 mm rocket, Smerch MLRS"),
    EOModel("82mm-mortar-bomb", _UXO, "USSR", "82 mm HE-fragmentation mortar bomb"),
    EOModel("120mm-mortar-bomb", _UXO, "USSR", "120 mm HE-fragmentation mortar bomb"),
    EOModel("100mm-projectile", _UXO, "USSR", "100 mm HE-fragmentation gun projectile"),
    EOModel("122mm-projectile", _UXO, "USSR", "122 mm HE-fragmentation howitzer projectile"),
    EOModel("125mm-tank-round", _UXO, "USSR", "125 mm tank gun round, HE-fragmentation or HEAT"),
    EOModel("152mm-projectile", _UXO, "USSR", "152 mm HE-fragmentation howitzer projectile"),
    EOModel("155mm-projectile", _UXO, "USA", "155 mm NATO HE howitzer projectile"),
    EOModel("30mm-cannon-round", _UXO, "USSR", "30 mm HE-fragmentation cannon round, 2A42/2A72"),
    EOModel("PG-7V", _UXO, "USSR", "HEAT rocket-propelled grenade, RPG-7 launcher"),
    EOModel("9M113", _UXO, "USSR", "Konkurs wire-guided anti-tank guided missile, HEAT"),
    EOModel("FAB-250", _UXO, "USSR", "250 kg general-purpose HE aircraft bomb"),
    EOModel("FAB-500", _UXO, "USSR", "500 kg general-purpose HE aircraft bomb"),
    EOModel("OFAB-250", _UXO, "USSR", "250 kg HE-fragmentation aircraft bomb"),
    EOModel("RGD-5", _UXO, "USSR", "offensive fragmentation hand grenade, time fuze"),
    EOModel("F-1", _UXO, "USSR", "defensive fragmentation hand grenade, time fuze"),
    EOModel("RGO", _UXO, "USSR", "defensive fragmentation hand grenade, impact/time fuze"),
    EOModel("RGN", _UXO, "USSR", "offensive fragmentation hand grenade, impact/time fuze"),
    EOModel("M67", _UXO, "USA", "fragmentation hand grenade, time fuze"),
    # Abandoned explosive ordnance
    EOModel("abandoned-ammunition-cache", _AXO, "various", "abandoned mixed ammunition cache"),
    EOModel("small-arms-ammunition-stockpile", _AXO, "various", "abandoned small arms stock"),
    EOModel("abandoned-artillery-ammunition", _AXO, "various", "abandoned stack of shells"),
    EOModel("abandoned-mine-stockpile", _AXO, "various", "abandoned unlaid landmines"),
    EOModel("abandoned-mortar-bombs", _AXO, "various", "abandoned crated mortar bombs"),
    # Improvised explosive devices
    EOModel("pressure-plate-IED", _IED, _IMP, "victim-operated IED, pressure-plate switch"),
    EOModel("command-wire-IED", _IED, _IMP, "command-initiated IED, firing wire"),
    EOModel("radio-controlled-IED", _IED, _IMP, "command-initiated IED, radio receiver switch"),
    EOModel("victim-operated-IED", _IED, _IMP, "IED initiated by victim action (tripwire etc.)"),
    EOModel("time-delay-IED", _IED, _IMP, "IED initiated by timer"),
    EOModel("drone-dropped-munition", _IED, _IMP, "modified grenade or bomblet dropped by UAV"),
    # Booby traps
    EOModel("tripwire-grenade-booby-trap", _BT, _IMP, "hand grenade with tripwire pull"),
    EOModel("pull-switch-booby-trap", _BT, "USSR", "pull-switch booby trap, MUV-2 fuze"),
    EOModel("pressure-release-booby-trap", _BT, "USSR", "pressure-release switch, MS-3 type"),
    EOModel("anti-lift-booby-trap", _BT, _IMP, "charge placed under a mine or object"),
)

assert len({m.code.upper() for m in EO_MODELS}) == len(EO_MODELS), "duplicate EO codes"
assert all(m.code.isascii() for m in EO_MODELS), "non-ASCII EO code"


def _key(code: str) -> str:
    """Normalised lookup key: upper case, spaces and underscores as hyphens."""
    return code.strip().upper().replace(" ", "-").replace("_", "-")


_BY_KEY: dict[str, EOModel] = {_key(m.code): m for m in EO_MODELS}
assert len(_BY_KEY) == len(EO_MODELS), "EO codes collide after normalisation"


def by_code(code: str) -> EOModel | None:
    """The model with this code (case-insensitive, space/hyphen tolerant), or None."""
    return _BY_KEY.get(_key(code))


def models_in(category: EOCategory) -> tuple[EOModel, ...]:
    """All catalogue models of one category, in catalogue order."""
    return tuple(m for m in EO_MODELS if m.category is category)
