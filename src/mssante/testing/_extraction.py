"""Synthetic MSSanté extraction files (``Extraction_Correspondance_MSSante``), shaped like the real one.

Every value is made up: fictitious people with French-looking names (accents included), valid-looking
RPPS numbers (``1`` + 9 digits + Luhn key) and IDNPS (``8`` + RPPS), a few ADELI numbers, FINESS- and
SIRET-like structure numbers, ~5,000 ``*.mssante.fr`` domains. The mix follows the real file:
~85% PER and ~15% ORG lines, ~30% of PER lines without a structure, a few addresses (~0.03%) on two
lines, mostly empty address complements. The same seed gives the same file.
"""

from __future__ import annotations

import random
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import attrs

from mssante.directory import EXTRACTION_HEADER
from mssante.identifiers import luhn_key

__all__ = ["SYNTHETIC_MEMBER_NAME", "synthetic_extraction", "write_synthetic_extraction"]

SYNTHETIC_MEMBER_NAME = "Extraction_Correspondance_MSSante_202601010000.txt"
"""The name of the text file inside a ZIP written by :func:`write_synthetic_extraction`."""

_FAMILIES = """MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND DUBOIS MOREAU LAURENT SIMON MICHEL LEFÈVRE LEROY ROUX
DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE ROUSSEAU VINCENT MULLER LEFEBVRE FAURE ANDRÉ
MERCIER BLANC GUÉRIN BOYER GARNIER CHEVALIER FRANÇOIS LEGRAND GAUTHIER GARCIA PERRIN ROBIN CLÉMENT MORIN NICOLAS
HENRY ROUSSEL MATHIEU GAUTIER MASSON MARCHAND DUVAL DENIS DUMONT MARIE LEMAIRE NOËL MEYER DUFOUR MEUNIER BRUN
BLANCHARD GIRAUD JOLY RIVIÈRE LUCAS BRUNET GAILLARD BARBIER ARNAUD MARTINEZ GÉRARD ROCHE RENARD SCHMITT ROY LEROUX
COLIN VIDAL CARON PICARD ROGER FABRE AUBERT LEMOINE RENAUD DUMAS LACROIX OLIVIER PHILIPPE BOURGEOIS PIERRE BENOÎT
REY LECLERC PAYET ROLLAND LECLERCQ GUILLAUME LECOMTE DUPUY GUILLOT HUBERT BERGER CARPENTIER SANCHEZ DUPUIS MOULIN
LOUIS DESCHAMPS HUET VASSEUR PEREZ BOUCHER FLEURY ROYER KLEIN JACQUET ADAM POIRIER MARTY AUBRY GUYOT CARRÉ
CHARLES RENAULT CHARPENTIER MÉNARD MAILLARD BARON BERTIN BAILLY HERVÉ SCHNEIDER FERNANDEZ LE_GALL COLLET LÉGER
BOUVIER JULIEN PRÉVOST MILLET PERROT DANIEL LE_ROUX COUSIN GERMAIN BRETON BESSON LANGLOIS RÉMY LE_GOFF PELLETIER
LÉVÊQUE PERRIER LEBLANC BARRÉ LEBRUN MARCHAL WEBER MALLET HAMON BOULANGER JACOB MONNIER MICHAUD RODRIGUEZ GUICHARD
GILLET ÉTIENNE GRONDIN POULAIN TESSIER CHEVALLIER COLLIN CHAUVIN DA_SILVA BOUCHET GAY LEMAÎTRE BÉNARD MARÉCHAL
HUMBERT REYNAUD ANTOINE HOARAU PERRET BARTHÉLEMY CORDIER PICHON LEJEUNE GILBERT LAMY DELAUNAY PASQUIER CARLIER
LAPORTE D'ALMEIDA N'GUYEN""".replace("_", " ").split()

_GIVEN = """Jean Marie Hélène Jérôme François Loïc Chloé Zoé Noël Anaïs Gaëlle Cécile Frédéric Stéphane Sébastien
Amélie Élodie Émilie Céline Valérie Aurélie Mélanie Benoît Thérèse Agnès Léa Inès Maël Raphaël Joël Hervé René André
Pierre Nicolas Julien Camille Claire Sophie Isabelle Nathalie Sandrine Christophe Philippe Laurent Olivier David
Thomas Alexandre Antoine Guillaume Mathieu Vincent Catherine Christine Anne Julie Sylvie Martine Laure Lucie Manon
Sarah Emma Louise Alice Paul Louis Hugo Lucas Arthur Jules Marc Michel Alain Bernard Patrick Éric Yves Gérard Daniel
Françoise Monique Brigitte Dominique Pascale Véronique Karine Laëtitia Maëlle Solène Mégane Clémence Océane Margaux
Jean-Pierre Jean-François Marie-Hélène Anne-Sophie Pierre-Yves Marie-Thérèse Jean-Noël""".split()  # noqa: SIM905

# (code, label, weight, savoir-faire choices: (code, label), "" for none)
_PROFESSIONS: tuple[tuple[str, str, float, tuple[tuple[str, str], ...]], ...] = (
    (
        "10",
        "Médecin",
        0.45,
        (
            ("SM54", "Médecine générale"),
            ("SM54", "Médecine générale"),
            ("SM54", "Médecine générale"),
            ("SM04", "Cardiologie et maladies vasculaires"),
            ("SM26", "Gynécologie-obstétrique"),
            ("SM42", "Pédiatrie"),
            ("SM40", "Psychiatrie"),
            ("SM02", "Anesthésie-réanimation"),
            ("SM32", "Ophtalmologie"),
            ("SM38", "Radio-diagnostic"),
            ("SM15", "Dermatologie et vénéréologie"),
            ("SM19", "Gastro-entérologie et hépatologie"),
            ("", ""),
        ),
    ),
    ("21", "Pharmacien", 0.12, (("", ""), ("", ""), ("SP01", "Biologie médicale"))),
    ("40", "Chirurgien-Dentiste", 0.06, (("", ""), ("", ""), ("SCD01", "Orthopédie dento-faciale"))),
    ("50", "Sage-Femme", 0.04, (("", ""),)),
    ("60", "Infirmier", 0.18, (("", ""),)),
    ("70", "Masseur-Kinésithérapeute", 0.08, (("", ""),)),
    ("80", "Pédicure-Podologue", 0.02, (("", ""),)),
    ("91", "Orthophoniste", 0.02, (("", ""),)),
    ("26", "Audioprothésiste", 0.015, (("", ""),)),
    ("28", "Opticien-Lunetier", 0.015, (("", ""),)),
)
_SHARED_DOMAINS = {
    "10": "medecin.mssante.fr",
    "21": "pharmacien.mssante.fr",
    "40": "chirurgien-dentiste.mssante.fr",
    "50": "sagefemme.mssante.fr",
    "60": "infirmier.mssante.fr",
    "70": "masseur-kinesitherapeute.mssante.fr",
    "80": "pedicure-podologue.mssante.fr",
    "91": "orthophoniste.mssante.fr",
}

# (city as written, postcode, department)
_CITIES: tuple[tuple[str, str, str], ...] = (
    ("PARIS", "75", "75"),
    ("LYON", "690", "69"),
    ("MARSEILLE", "130", "13"),
    ("TOULOUSE", "31000", "31"),
    ("NICE", "06000", "06"),
    ("NANTES", "44000", "44"),
    ("STRASBOURG", "67000", "67"),
    ("MONTPELLIER", "34000", "34"),
    ("BORDEAUX", "33000", "33"),
    ("LILLE", "59000", "59"),
    ("RENNES", "35000", "35"),
    ("REIMS", "51100", "51"),
    ("SAINT-ÉTIENNE", "42000", "42"),
    ("TOULON", "83000", "83"),
    ("LE HAVRE", "76600", "76"),
    ("GRENOBLE", "38000", "38"),
    ("DIJON", "21000", "21"),
    ("ANGERS", "49000", "49"),
    ("NÎMES", "30000", "30"),
    ("VILLEURBANNE", "69100", "69"),
    ("CLERMONT-FERRAND", "63000", "63"),
    ("LE MANS", "72000", "72"),
    ("AIX-EN-PROVENCE", "13100", "13"),
    ("BREST", "29200", "29"),
    ("TOURS", "37000", "37"),
    ("AMIENS", "80000", "80"),
    ("LIMOGES", "87000", "87"),
    ("ANNECY", "74000", "74"),
    ("PERPIGNAN", "66000", "66"),
    ("BESANÇON", "25000", "25"),
    ("METZ", "57000", "57"),
    ("ORLÉANS", "45000", "45"),
    ("ROUEN", "76000", "76"),
    ("MULHOUSE", "68100", "68"),
    ("CAEN", "14000", "14"),
    ("NANCY", "54000", "54"),
    ("ARGENTEUIL", "95100", "95"),
    ("SAINT-DENIS", "97400", "974"),
    ("ROUBAIX", "59100", "59"),
    ("MONTREUIL", "93100", "93"),
    ("AVIGNON", "84000", "84"),
    ("CRÉTEIL", "94000", "94"),
    ("POITIERS", "86000", "86"),
    ("PAU", "64000", "64"),
    ("AJACCIO", "20000", "2A"),
    ("BASTIA", "20200", "2B"),
    ("CHAMBÉRY", "73000", "73"),
    ("ÉVRY-COURCOURONNES", "91000", "91"),
    ("VANNES", "56000", "56"),
    ("LA ROCHELLE", "17000", "17"),
    ("CAYENNE", "97300", "973"),
    ("FORT-DE-FRANCE", "97200", "972"),
    ("POINTE-À-PITRE", "97110", "971"),
    ("COLMAR", "68000", "68"),
    ("BÉZIERS", "34500", "34"),
    ("QUIMPER", "29000", "29"),
    ("VALENCE", "26000", "26"),
    ("BAYONNE", "64100", "64"),
    ("ÉPINAL", "88000", "88"),
    ("SAINT-MALO", "35400", "35"),
    ("CHÂTEAUROUX", "36000", "36"),
    ("MÂCON", "71000", "71"),
    ("LAVAL", "53000", "53"),
    ("ALBI", "81000", "81"),
)
_KINDS = (
    ("CENTRE HOSPITALIER", "ch", 4),
    ("CENTRE HOSPITALIER UNIVERSITAIRE", "chu", 1),
    ("CLINIQUE", "clinique", 3),
    ("CENTRE DE SANTÉ", "cds", 3),
    ("EHPAD", "ehpad", 4),
    ("LABORATOIRE DE BIOLOGIE MÉDICALE", "lbm", 2),
    ("PHARMACIE", "pharmacie", 5),
    ("CABINET MÉDICAL", "cabinet", 6),
    ("MAISON DE SANTÉ PLURIPROFESSIONNELLE", "msp", 3),
    ("CENTRE DE RADIOLOGIE", "radiologie", 1),
    ("GROUPE HOSPITALIER", "gh", 1),
)
_NAME_SUFFIXES = (
    "SAINT-JOSEPH",
    "SAINTE-MARIE",
    "DES LILAS",
    "DU PARC",
    "LES ÉGLANTINES",
    "JEAN JAURÈS",
    "PASTEUR",
    "DE LA GARE",
    "DU CENTRE",
    "LES TILLEULS",
    "BEAUSÉJOUR",
    "DE L'ARC",
    "NOTRE-DAME",
    "SAINT-LOUIS",
    "DES CÈDRES",
    "VAL DE SEINE",
)
_STREET_TYPES = ("R", "R", "R", "AV", "BD", "PL", "CHE", "RTE", "ALL", "IMP", "QUAI")
_STREETS = (
    "DE LA RÉPUBLIQUE",
    "VICTOR HUGO",
    "JEAN JAURÈS",
    "DU GÉNÉRAL DE GAULLE",
    "PASTEUR",
    "DES LILAS",
    "DE LA GARE",
    "DU MARÉCHAL FOCH",
    "GAMBETTA",
    "DE L HÔPITAL",
    "SAINT-MARTIN",
    "DES ÉCOLES",
    "DU 8 MAI 1945",
    "CARNOT",
    "DE PARIS",
)
_SERVICES = (
    "Secrétariat cardiologie",
    "Service des urgences",
    "Laboratoire",
    "Pharmacie à usage intérieur",
    "Bureau des entrées",
    "Imagerie médicale",
    "Médecine interne",
    "Pédiatrie",
    "Maternité",
    "Oncologie",
    "Direction des soins",
    "Secrétariat médical",
    "Gériatrie",
    "Accueil",
    "Département d'information médicale",
)
_CATEGORIES = (("C", "Civil"),) * 48 + (("M", "Militaire"), ("E", "Etudiant"))
_DOMAINS = 5000
_STRUCTURES = 25_000
_DUPLICATE_RATE = 0.0003
_SLUG_SKIP = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    """Lower-case ASCII letters and digits joined by hyphens: ``Hélène-Marie`` -> ``helene-marie``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _SLUG_SKIP.sub("-", folded).strip("-")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _keyed(body: str) -> str:
    return body + luhn_key(body)


@attrs.frozen
class _Structure:
    """One synthetic structure: its identifier, its 13 last extraction columns and its mail domain."""

    id_type: str
    identifier: str
    fields: tuple[str, ...]  # Raison Sociale .. Pays (13 values)
    domain: str


def _postcode(rng: random.Random, stem: str) -> str:
    if len(stem) == 2:  # Paris: 75001-75020
        return f"{stem}0{rng.randint(1, 20):02d}"
    if len(stem) == 3:  # Lyon, Marseille: 69001-69009, 13001-13009
        return f"{stem}{rng.randint(1, 9):02d}"
    return stem


class _Domains:
    """~5,000 structure domains: ``ch-orleans.mssante.fr``, ``ch-orleans2.mssante.fr``..., then shared ones."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._by_base: dict[str, list[str]] = {}
        self._all: list[str] = []

    def of(self, kind: str, city: str) -> str:
        base = f"{kind}-{_slug(city)}"
        known = self._by_base.setdefault(base, [])
        if len(self._all) >= _DOMAINS - len(_SHARED_DOMAINS):  # the pool is full: structures share domains
            return self._rng.choice(known or self._all)
        if known and self._rng.random() < 0.5:
            return self._rng.choice(known)
        domain = f"{base}{len(known) + 1 if known else ''}.mssante.fr"
        known.append(domain)
        self._all.append(domain)
        return domain


def _structure(rng: random.Random, domains: _Domains, city_weights: list[float]) -> _Structure:
    label, kind, _ = rng.choices(_KINDS, [kind[2] for kind in _KINDS])[0]
    city, stem, department = rng.choices(_CITIES, city_weights)[0]
    postcode = _postcode(rng, stem)
    name = f"{label} {rng.choice((*_NAME_SUFFIXES, _fold(city)))}"
    if rng.random() < 0.5:
        name = _fold(name)
    if rng.random() < 0.8:
        id_type, identifier = "1", _keyed(f"{department[:2]}{rng.randrange(10**6):06d}")
    else:
        id_type, identifier = "3", _keyed(f"{rng.randrange(10**12, 10**13)}")
    written_city = city if rng.random() < 0.4 else _fold(city)
    line6 = f"{postcode} {written_city}" + (" CEDEX" if rng.random() < 0.05 else "")
    has_street = rng.random() < 0.9
    fields = (
        name,
        f"PHARMACIE {rng.choice(_NAME_SUFFIXES)}" if kind == "pharmacie" and rng.random() < 0.5 else "",
        rng.choice(("BATIMENT A", "HALL 2", "PAVILLON B")) if rng.random() < 0.1 else "",
        f"BP {rng.randint(1, 9999)}" if rng.random() < 0.08 else "",
        str(rng.randint(1, 250)) if has_street else "",
        rng.choice(("B", "BIS", "T")) if has_street and rng.random() < 0.05 else "",
        rng.choice(_STREET_TYPES) if has_street else "",
        rng.choice(_STREETS) if has_street else "",
        rng.choice(("LIEU-DIT LES CHAMPS", "ZONE ARTISANALE")) if rng.random() < 0.03 else "",
        line6,
        postcode,
        department,
        "",
    )
    return _Structure(id_type, identifier, fields, domains.of(kind, city))


_EMPTY_STRUCTURE = ("",) * 13


class _Lines:
    """The data lines of one synthetic file."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
        city_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(_CITIES))]
        domains = _Domains(rng)
        self.structures = [_structure(rng, domains, city_weights) for _ in range(_STRUCTURES)]
        self.families = [(name, _slug(name)) for name in _FAMILIES]
        self.givens = [(name, _slug(name)) for name in _GIVEN]
        self.profession_weights = [profession[2] for profession in _PROFESSIONS]
        self.booleans = ("True",) * 12 + ("False",) * 7 + ("",)

    def organisation(self, number: int) -> list[str]:
        """An ORG line: a service's mailbox, always with its structure."""
        rng = self.rng
        structure = rng.choice(self.structures)
        service = rng.choice(_SERVICES)
        address = f"{_slug(service)}.{number}@{structure.domain}"
        identifiers = [structure.id_type, structure.identifier, service]
        return ["ORG", address, "", "", "", *identifiers, *("",) * 9, rng.choice(self.booleans), *structure.fields]

    def person(self, number: int) -> list[str]:
        """A PER line: a professional, with a structure (~70%) or on the shared domain of the profession."""
        rng = self.rng
        family, family_slug = rng.choice(self.families)
        given, given_slug = rng.choice(self.givens)
        if rng.random() < 0.7:
            given = given.upper()
        code, label, _, specialties = rng.choices(_PROFESSIONS, self.profession_weights)[0]
        specialty_code, specialty = rng.choice(specialties)
        civility = ("PR" if rng.random() < 0.03 else "DR") if code == "10" else rng.choice(("M", "MME", "MME"))
        if code in ("10", "21", "40", "50") or rng.random() < 0.9:
            pp_type, pp_id = "8", _keyed(f"1{(number * 7919 + self.seed) % 10**9:09d}")
        else:
            pp_type, pp_id = "0", f"{rng.randint(1, 95):02d}{rng.randrange(10**7):07d}"
        category = rng.choice(_CATEGORIES)
        if rng.random() < 0.7:
            structure = rng.choice(self.structures)
            domain, identifiers, rest = structure.domain, [structure.id_type, structure.identifier], structure.fields
            service = rng.choice(_SERVICES) if rng.random() < 0.1 else ""
        else:
            domain = _SHARED_DOMAINS.get(code, "mssante.mssante.fr")
            identifiers, rest, service = ["", ""], _EMPTY_STRUCTURE, ""
        address = f"{given_slug}.{family_slug}{number}@{domain}"
        person = [civility, family, given, *category, code, label, specialty_code, specialty]
        return [
            "PER",
            address,
            pp_type,
            pp_id,
            pp_type + pp_id,
            *identifiers,
            service,
            *person,
            rng.choice(self.booleans),
            *rest,
        ]

    def duplicate(self, line: list[str]) -> list[str]:
        """The same mailbox on a second line, attached to another structure."""
        other = self.rng.choice(self.structures)
        return [*line[:5], other.id_type, other.identifier, *line[7:18], *other.fields]


def synthetic_extraction(lines: int, *, seed: int = 0, trailing_pipe: bool = False) -> Iterator[str]:
    """The header then ``lines`` synthetic data lines of an extraction file, without line endings.

    ``trailing_pipe`` ends every line (header included) with ``|``, as some ANS files do.
    """
    maker = _Lines(seed)
    rng = maker.rng
    end = "|" if trailing_pipe else ""
    yield "|".join(EXTRACTION_HEADER) + end
    previous: list[str] | None = None
    for number in range(lines):
        if previous is not None and rng.random() < _DUPLICATE_RATE:
            fields = maker.duplicate(previous)
        elif rng.random() < 0.15:
            fields = maker.organisation(number)
        else:
            fields = previous = maker.person(number)
        yield "|".join(fields) + end


def write_synthetic_extraction(
    path: str | Path, lines: int, *, seed: int = 0, zip: bool = False, trailing_pipe: bool = False
) -> Path:
    """Write :func:`synthetic_extraction` to ``path`` (UTF-8, LF); with ``zip=True``, as the one file of a ZIP.

    The ZIP's member is :data:`SYNTHETIC_MEMBER_NAME`, deflated, as the ANS web service delivers it.
    """
    target = Path(path)
    content = synthetic_extraction(lines, seed=seed, trailing_pipe=trailing_pipe)
    if zip:
        with (
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive,
            archive.open(SYNTHETIC_MEMBER_NAME, "w", force_zip64=True) as member,
        ):
            _write_lines(member, content)
    else:
        with target.open("wb") as stream:
            _write_lines(stream, content)
    return target


def _write_lines(stream: IO[bytes], content: Iterator[str]) -> None:
    write = stream.write
    batch: list[str] = []
    for line in content:
        batch.append(line)
        if len(batch) >= 10_000:
            write(("\n".join(batch) + "\n").encode("utf-8"))
            batch.clear()
    if batch:
        write(("\n".join(batch) + "\n").encode("utf-8"))
