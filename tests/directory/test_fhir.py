"""The FHIR core of the directory: queries, fixtures read into mailboxes, errors, hostile JSON.

The fixtures in ``tests/data/directory/fhir/`` are copies of ``shared/fixtures/annuaire/`` (see its README):

- ``ig-Practitioner-334081DP.json``, ``ig-PractitionerRole-1738459DP.json``,
  ``ig-Organization-example-organization-nancy.json``: examples of ansforge/IG-fhir-annuaire (branch gh-pages,
  commit 82adc564, ``main/ig/``);
- ``apidoc-v2-*.json``: samples of ansforge/annuaire-sante-fhir-documentation (commit 9f3d7d0), the
  Organization one wrapped with a SYNTHETIC id;
- ``mssig-*.json``: the draft "API Messagerie Sécurisée de Santé" IG (branch nr-add-balmss-spec of
  IG-fhir-annuaire) and its ``openapi-balmss.yaml``;
- ``v1-practitioner-mailboxmss-SYNTHETIC.json``: written by hand for these tests from the v1 ``MailboxMSS``
  extension (annuaire-sante-fhir-serveur ``FhirServerConstants.java``, and the v1 IG example
  ``practitioner-exemple-3``); all its values are fictitious.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.addresses import MailboxType
from mssante.directory._fhir_answers import error_for_status, outcome_diagnostics
from mssante.directory._fhir_bundle import parse_bundle, parse_resource, read_bundle, read_resource
from mssante.directory._fhir_errors import (
    DirectoryAuthError,
    DirectoryBadRequest,
    DirectoryFailure,
    DirectoryNotFound,
    DirectoryRateLimited,
    DirectoryResponseError,
    DirectoryUnavailable,
)
from mssante.directory._fhir_mailboxes import merge_mailboxes
from mssante.directory._fhir_params import MAX_COUNT
from mssante.directory._fhir_query import Query
from mssante.directory._fhir_records import (
    FINESS_SYSTEM,
    IDNPS_SYSTEM,
    Organization,
    Page,
    Practitioner,
    PractitionerRole,
    ResourceType,
)
from mssante.directory._fhir_urls import same_origin
from mssante.directory._models import DirectoryMailbox, Person, Structure, commune_department, postcode_department
from mssante.errors import DirectoryError, InvalidAddress
from mssante.report import finding_codes

DATA = Path(__file__).parent.parent / "data" / "directory" / "fhir"
EMAIL_TYPE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type"
METADATA = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"
R256 = "https://mos.esante.gouv.fr/NOS/TRE_R256-TypeMessagerie/FHIR/TRE-R256-TypeMessagerie"
R257 = "https://mos.esante.gouv.fr/NOS/TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL"
R02 = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"

NOT_JSON, TOO_LARGE, NOT_EXPECTED, OUTCOME = "MSS-FHIR-001", "MSS-FHIR-002", "MSS-FHIR-003", "MSS-FHIR-004"
ENTRY_SKIPPED, OTHER_RESOURCE, BAD_ADDRESS = "MSS-FHIR-005", "MSS-FHIR-006", "MSS-FHIR-007"
UNKNOWN_TYPE, BAD_METADATA, LINK_REFUSED = "MSS-FHIR-008", "MSS-FHIR-009", "MSS-FHIR-010"
DEPARTMENT_CONFLICT = "MSS-FHIR-019"
INSEE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
R13 = "https://mos.esante.gouv.fr/NOS/TRE_R13-Commune/FHIR/TRE-R13-Commune"
G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"


def raw(name: str) -> bytes:
    return (DATA / name).read_bytes()


def loaded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw(name))
    return data


def mss_telecom(address: str, *metadata: object, email_type: str | None = "MSSANTE") -> dict[str, Any]:
    """A telecom as the directory writes an MSSanté mailbox, with the metadata sub-extensions given."""
    extensions: list[dict[str, Any]] = []
    if email_type is not None:
        extensions.append({"url": EMAIL_TYPE, "valueCoding": {"system": R256, "code": email_type}})
    if metadata:
        extensions.append({"url": METADATA, "extension": list(metadata)})
    return {"system": "email", "value": address, "extension": extensions}


def kind(code: str) -> dict[str, Any]:
    return {"url": "type", "valueCodeableConcept": {"coding": [{"system": R257, "code": code}]}}


def bundle(*resources: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources], **fields}


# --- the fixtures ------------------------------------------------------------------------------------------------


def test_ig_practitioner_with_a_mailbox_without_metadata() -> None:
    record, report = parse_resource(raw("ig-Practitioner-334081DP.json"))
    assert report.findings == ()
    assert isinstance(record, Practitioner)
    assert (record.id, record.active, record.reference) == ("334081DP", True, "Practitioner/334081DP")
    person = Person(
        rpps="10003461033",
        idnps="810003461033",
        civility="M",
        family="Saucier",
        given="Arthur",
        profession_code="10",
        profession="Médecin",  # the API gives the code alone: the label is the code's (TRE_G15)
    )
    assert record.person == person
    assert record.mailboxes == (
        DirectoryMailbox(address="jeromebonnet@pro.mssante.fr", type=None, person=person, source="fhir"),
    )


def test_ig_practitioner_role_without_telecom() -> None:
    record, _ = parse_resource(raw("ig-PractitionerRole-1738459DP.json"))
    assert record == PractitionerRole(
        id="1738459DP", active=True, practitioner="Practitioner/334081", organization="Organization/548812"
    )


def test_ig_organization_a_plain_email_is_not_a_mailbox() -> None:
    record, report = parse_resource(raw("ig-Organization-example-organization-nancy.json"))
    assert report.ok
    # The example's district (52) is not the department of its commune code (54547) nor of its postcode (54511).
    assert report.codes == (DEPARTMENT_CONFLICT,)
    assert report.findings[0].message == (
        "the department kept is 54, from the commune code; the district '52' names 52"
    )
    assert isinstance(record, Organization)
    structure = Structure(
        identifier="1540002698",
        identifier_type="IDNST",
        name="CHRU NANCY - HOPITAUX DE BRABOIS",
        postcode="54511",
        city="VANDOEUVRE LES NANCY CEDEX",
        department="54",
        address_lines=("R DU MORVAN, 54511 VANDOEUVRE LES NANCY CEDEX",),
    )
    assert (record.idnst, record.finess, record.structure) == ("1540002698", "540002698", structure)
    assert record.mailboxes == (
        DirectoryMailbox(
            address="exemple.address@address.mssante.fr",
            type=MailboxType.ORG,
            description="Description-mss",
            red_list=False,
            structure=structure,
            source="fhir",
        ),
    )
    assert "direction.generale@chu-nancy.fr" not in {m.address for m in record.mailboxes}


def test_api_doc_organization_with_digitization() -> None:
    record, _ = parse_resource(raw("apidoc-v2-organization-centre-sante-bal-org.json"))
    (mailbox,) = record.mailboxes
    assert (mailbox.address, mailbox.type, mailbox.description) == (
        "secretariat.drhouse@aura.mssante.fr",
        MailboxType.ORG,
        "DR HOUSE Secrétariat",
    )
    assert (mailbox.digitization, mailbox.red_list, mailbox.structure) == (
        True,
        None,
        Structure(name="CENTRE DE SANTE DR HOUSE"),
    )
    assert mailbox.to_dict()["structure"] == "CENTRE DE SANTE DR HOUSE"


def test_mss_ig_bundle_of_two_personal_mailboxes() -> None:
    page = parse_bundle(raw("mssig-bundle-bal-per-searchset.json"))
    assert (page.total, page.next, page.report.findings) == (2, None, ())
    assert [type(r) for r in page.resources] == [Practitioner, Practitioner]
    assert [(m.address, m.type, m.red_list) for m in page.mailboxes] == [
        ("jean-marie.dupont@infirmier.mssante.fr", MailboxType.PER, False),
        ("sophie.martin@medecin.mssante.fr", MailboxType.PER, False),
    ]
    first = page.mailboxes[0].person
    assert first == Person(rpps="10003456789", idnps="810003456789", family="DUPONT", given="Jean-Marie")
    assert page.mailboxes[1].to_dict()["name"] == "Sophie MARTIN"


def test_api_doc_page_with_an_opaque_next_link() -> None:
    page = parse_bundle(raw("apidoc-v2-bundle-page-practitioner-delta.json"))
    assert page.total == 9903
    assert page.next is not None
    assert page.next.startswith("https://gateway.api.esante.gouv.fr/fhir/v2/_page?id=u0AmXEZS9W7")
    assert page.next.endswith("HberRc7S2UtdCGb")
    (record,) = page.resources
    assert isinstance(record, Practitioner)
    assert (record.id, record.mailboxes) == ("003-3422245-5139408", ())


def test_api_doc_subsetted_practitioner_with_the_v1_rpps_system() -> None:
    record, _ = parse_resource(raw("apidoc-v2-practitioner-elements-subsetted.json"))
    assert isinstance(record, Practitioner)
    assert (record.id, record.person.rpps, record.person.idnps) == ("", "10000001916", "810000001916")


def test_v1_mailbox_extension() -> None:
    record, report = parse_resource(raw("v1-practitioner-mailboxmss-SYNTHETIC.json"))
    assert report.ok
    assert isinstance(record, Practitioner)
    assert record.person.rpps == "10000000003"
    assert record.person.civility == "DR"
    assert [(m.address, m.type, m.digitization, m.description, m.service) for m in record.mailboxes] == [
        ("camille.exemple@medecin.mssante.fr", MailboxType.PER, True, "", ""),
        ("cabinet.exemple@medecin.mssante.fr", MailboxType.CAB, False, "Cabinet médical exemple", "Secrétariat"),
    ]
    assert all(m.person == record.person and m.source == "fhir" for m in record.mailboxes)


def test_the_draft_patch_contact_point_with_a_value_code_type() -> None:
    """The write API's examples give the type as ``valueCode``, and no e-mail type extension."""
    patch = loaded("mssig-patch-insert-bal-org.json")
    contact = patch["parameter"][0]["part"][3]["valueContactPoint"]
    record, report = read_resource({"resourceType": "Organization", "id": "x", "telecom": [contact]})
    assert report.ok
    (mailbox,) = record.mailboxes
    assert (mailbox.address, mailbox.type, mailbox.red_list, mailbox.description) == (
        "structure@domain.mssante.fr",
        MailboxType.ORG,
        False,
        "BAL principale de la structure",
    )


def test_operation_outcome_fixtures() -> None:
    with pytest.raises(DirectoryResponseError) as raised:
        parse_bundle(raw("apidoc-v2-operationoutcome-unknown-resource.json"))
    assert raised.value.code == OUTCOME
    assert raised.value.diagnostics == (
        "error processing: HAPI-0302: Unknown resource type 'PractitiXXXner' - Server knows how to handle: "
        "[Practitioner, PractitionerRole, Device, Organization, HealthcareService]",
    )
    error = error_for_status(412, raw("mssig-operationoutcome-412-conditional-patch.json"), url="https://x/y")
    assert isinstance(error, DirectoryBadRequest)
    assert error.status == 412
    assert error.url == "https://x/y"
    assert error.diagnostics[0].startswith("error conflict: Multiple matches found for conditional PATCH")
    assert "HTTP 412" in str(error)
    assert "Multiple matches" in str(error)


def test_fixtures_that_are_not_resources_of_the_directory() -> None:
    with pytest.raises(DirectoryResponseError) as raised:
        parse_resource(raw("mssig-patch-insert-bal-org.json"))
    assert raised.value.code == NOT_EXPECTED
    assert "'Parameters'" in str(raised.value)
    with pytest.raises(DirectoryResponseError, match="expected a Bundle, not 'Practitioner'"):
        parse_bundle(raw("ig-Practitioner-334081DP.json"))


def test_a_bare_bundle_entry_is_refused_with_what_it_is() -> None:
    entry = loaded("mssig-bundle-bal-per-searchset.json")["entry"][0]
    with pytest.raises(DirectoryResponseError) as raised:
        parse_resource(json.dumps(entry).encode())
    assert raised.value.code == NOT_EXPECTED
    assert "a Bundle entry (holding a 'Practitioner'): give its `resource`" in str(raised.value)
    record, _ = read_resource(entry["resource"])  # what the message says to do
    assert isinstance(record, Practitioner)
    with pytest.raises(DirectoryResponseError, match="a Bundle entry without a resource"):
        read_resource({"fullUrl": "https://x/Practitioner/1"})
    with pytest.raises(DirectoryResponseError, match="read a page with parse_bundle"):
        parse_resource(raw("mssig-bundle-bal-per-searchset.json"))
    with pytest.raises(DirectoryResponseError, match=r"not a Bundle entry .*: a page is the whole Bundle"):
        read_bundle(entry)
    with pytest.raises(DirectoryResponseError, match="a JSON object without resourceType"):
        read_resource({"id": "x"})


# --- what a record tells: the profession's label, the department ---------------------------------------------------


def practitioner(*codings: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Practitioner", "qualification": [{"code": {"coding": list(codings)}}]}


def test_the_profession_label_is_the_display_else_the_codes() -> None:
    cases = [
        (practitioner({"system": G15, "code": "60"}), ("60", "Infirmier")),
        (practitioner({"system": G15, "code": "60", "display": "Infirmière"}), ("60", "Infirmière")),
        (practitioner({"system": G15, "code": "07"}), ("07", "")),  # a code the table does not know: no label
        (practitioner(), ("", "")),
    ]
    for resource, expected in cases:
        record, report = read_resource(resource)
        assert isinstance(record, Practitioner)
        assert (record.person.profession_code, record.person.profession) == expected
        assert report.findings == ()


def organization(**address: Any) -> dict[str, Any]:
    return {"resourceType": "Organization", "id": "o", "address": [address]}


@pytest.mark.parametrize(
    ("address", "department", "finding"),
    [
        ({"postalCode": "75014"}, "75", None),
        ({"postalCode": "20090"}, "2A", None),
        ({"postalCode": "20600"}, "2B", None),
        ({"postalCode": "97400"}, "974", None),
        ({"postalCode": "97150"}, "978", None),
        ({"postalCode": "98000"}, "", None),
        ({"postalCode": "98800"}, "988", None),
        ({"postalCode": "20000", "extension": [{"url": INSEE, "valueCoding": {"system": R13, "code": "2A004"}}]},
         "2A", None),
        ({"postalCode": "05110", "extension": [{"url": INSEE, "valueCoding": {"system": R13, "code": "04135"}}]},
         "04", None),  # a border commune with its neighbour's postcode: the postcode is kept as it is
        ({"postalCode": "75014", "extension": [{"url": INSEE, "valueCoding": {"system": R13, "code": "ABCDE"}}]},
         "75", "the department kept is 75, from the postcode; the commune code 'ABCDE' names no department"),
        ({"district": "Lorraine"}, "", "no department is kept; the district 'Lorraine' names no department"),
        ({"district": "97411"}, "974", None),  # FR Core: a COG commune code
        ({"district": "2B"}, "2B", None),  # plain FHIR: the county
        ({"district": "99100", "postalCode": "75014"}, "75", None),  # a COG country code (France)
        ({"district": "Meurthe", "postalCode": "54000"}, "54",
         "the department kept is 54, from the postcode; the district 'Meurthe' names no department"),
        ({"district": "52", "postalCode": "54000"}, "54",
         "the department kept is 54, from the postcode; the district '52' names 52"),
        ({"city": "PARIS"}, "", None),
    ],
)  # fmt: skip
def test_the_department_of_an_organisation(address: dict[str, Any], department: str, finding: str | None) -> None:
    record, report = read_resource(organization(**address))
    assert isinstance(record, Organization)
    assert record.structure.department == department
    if finding is None:
        assert report.findings == ()
    else:
        assert report.codes == (DEPARTMENT_CONFLICT,)
        assert report.findings[0].message == finding
        assert report.findings[0].where == "Organization.address[0]"
        assert report.ok  # a warning


def test_postcode_and_commune_departments() -> None:
    assert [postcode_department(code) for code in ("01000", "20199", "20213", "97200", "97500", "98600", "00100")] == [
        "01", "2A", "2B", "972", "975", "986", ""
    ]  # fmt: skip
    assert [commune_department(code) for code in ("54547", "2a004", "2B033", "97611", "99100", "20004", "x")] == [
        "54", "2A", "2B", "976", "", "", ""
    ]  # fmt: skip


# --- which telecoms are mailboxes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("telecom", "expected"),
    [
        (mss_telecom("a@x.mssante.fr"), None),
        (mss_telecom("a@x.mssante.fr", kind("APP")), MailboxType.APP),
        (mss_telecom("a@x.mssante.fr", kind("per")), MailboxType.PER),
        (mss_telecom("a@x.mssante.fr", kind("CAB"), email_type=None), MailboxType.CAB),
    ],
)
def test_mailbox_telecoms(telecom: dict[str, Any], expected: MailboxType | None) -> None:
    record, report = read_resource({"resourceType": "Practitioner", "telecom": [telecom]})
    assert report.ok
    assert [(m.address, m.type) for m in record.mailboxes] == [("a@x.mssante.fr", expected)]


@pytest.mark.parametrize(
    "telecom",
    [
        {"system": "email", "value": "contact@example.org"},
        {
            "system": "phone",
            "value": "0102030405",
            "extension": [{"url": EMAIL_TYPE, "valueCoding": {"code": "MSSANTE"}}],
        },
        mss_telecom("a@x.mssante.fr", email_type="APICRYPT"),
        mss_telecom("a@x.mssante.fr", kind("PER"), email_type="AUTRE"),
        {"system": "email", "value": "a@x.mssante.fr", "extension": [{"url": EMAIL_TYPE, "valueCode": "MSSANTE"}]},
        "a@x.mssante.fr",
        None,
    ],
)
def test_not_mailboxes(telecom: object) -> None:
    record, _ = read_resource({"resourceType": "Organization", "telecom": [telecom]})
    assert record.mailboxes == ()


def test_findings_on_doubtful_mailboxes() -> None:
    resource = {
        "resourceType": "Organization",
        "telecom": [
            mss_telecom("not an address"),
            {"system": "email", "value": 42, "extension": [{"url": EMAIL_TYPE, "valueCoding": {"code": "MSSANTE"}}]},
            mss_telecom("b@x.mssante.fr", kind("XYZ")),
            mss_telecom(
                "c@x.mssante.fr",
                {"url": "listeRouge", "valueBoolean": "maybe"},
                {"url": "description", "valueString": 3},
                {"url": "type"},
            ),
            mss_telecom("d@x.mssante.fr", {"url": "listeRouge", "valueString": "O"}),
        ],
    }
    record, report = read_resource(resource)
    assert [(m.address, m.type, m.red_list, m.description) for m in record.mailboxes] == [
        ("b@x.mssante.fr", None, None, ""),
        ("c@x.mssante.fr", None, None, ""),
        ("d@x.mssante.fr", None, True, ""),
    ]
    assert report.codes == (BAD_ADDRESS, BAD_ADDRESS, UNKNOWN_TYPE, BAD_METADATA, BAD_METADATA, BAD_METADATA)
    assert report.ok  # warnings only
    assert report.findings[0].where == "Organization.telecom[0]"


def test_addresses_are_canonical_and_control_characters_dropped() -> None:
    resource = {
        "resourceType": "Practitioner",
        "name": [{"family": "DU\u0000PONT\u2028", "given": ["Jean", 3, "Marie"]}],
        "telecom": [
            mss_telecom("Jean.Dupont@Medecin.MSSANTE.fr", {"url": "service", "valueString": "Cardio\r\nBcc: x"})
        ],
    }
    record, _ = read_resource(resource)
    (mailbox,) = record.mailboxes
    assert mailbox.address == "Jean.Dupont@medecin.mssante.fr"
    assert mailbox.service == "Cardio  Bcc: x"
    assert isinstance(record, Practitioner)
    assert (record.person.family, record.person.given) == ("DU PONT", "Jean Marie")


def test_a_page_completes_role_mailboxes_and_merges_them() -> None:
    practitioner = {
        "resourceType": "Practitioner",
        "id": "p1",
        "identifier": [{"system": "https://rpps.esante.gouv.fr", "value": "10000001916"}],
        "name": [{"family": "MARTIN", "given": ["Jean"]}],
        "telecom": [mss_telecom("jean.martin@medecin.mssante.fr")],
    }
    organization = {
        "resourceType": "Organization",
        "id": "o1",
        "identifier": [{"system": FINESS_SYSTEM, "value": "590064036"}],
        "name": "CLINIQUE",
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": "r1",
        "practitioner": {"reference": "https://gateway.api.esante.gouv.fr/fhir/v2/Practitioner/p1/_history/2"},
        "organization": {"reference": "Organization/o1"},
        "telecom": [
            mss_telecom("JEAN.MARTIN@medecin.mssante.fr", kind("PER"), {"url": "listeRouge", "valueBoolean": False}),
            mss_telecom("cardio@clinique.mssante.fr", kind("ORG"), {"url": "service", "valueString": "Cardiologie"}),
        ],
    }
    page = read_bundle(bundle(practitioner, role, organization, {"resourceType": "Device", "id": "d"}))
    assert page.report.codes == (OTHER_RESOURCE,)
    person = Person(rpps="10000001916", family="MARTIN", given="Jean")
    structure = Structure(identifier="590064036", identifier_type="FINESS", name="CLINIQUE")
    assert page.mailboxes == (
        DirectoryMailbox(
            address="jean.martin@medecin.mssante.fr",
            type=MailboxType.PER,
            red_list=False,
            person=person,
            structure=structure,
            source="fhir",
        ),
        DirectoryMailbox(
            address="cardio@clinique.mssante.fr",
            type=MailboxType.ORG,
            service="Cardiologie",
            person=person,
            structure=structure,
            source="fhir",
        ),
    )


def test_merge_mailboxes() -> None:
    first = DirectoryMailbox(address="a@x.mssante.fr", description="first", source="fhir")
    second = DirectoryMailbox(address="A@x.mssante.fr", type=MailboxType.PER, description="second", red_list=True)
    other = DirectoryMailbox(address="b@x.mssante.fr")
    assert merge_mailboxes([first, other, second]) == (
        DirectoryMailbox(
            address="a@x.mssante.fr", type=MailboxType.PER, description="first", red_list=True, source="fhir"
        ),
        other,
    )
    assert merge_mailboxes([]) == ()


# --- queries -----------------------------------------------------------------------------------------------------


def test_the_example_queries_of_the_directory_documentation() -> None:
    """annuaire.md §1.8, one query each."""
    assert Query.by_rpps("10001234567").to_params() == [
        ("identifier", "10001234567"),
        ("_revinclude", "PractitionerRole:practitioner"),
    ]
    assert Query(resource="Practitioner").identifier("810001234567", system=IDNPS_SYSTEM).to_params() == [
        ("identifier", "urn:oid:1.2.250.1.71.4.2.1|810001234567")
    ]
    assert Query.by_idnps("810001234567").to_params()[0] == ("identifier", "urn:oid:1.2.250.1.71.4.2.1|810001234567")
    assert Query.by_name("MARTIN", "Jean").to_params() == [("family", "MARTIN"), ("given", "Jean"), ("active", "true")]
    assert Query.by_address("jean.martin@medecin.mssante.fr").to_params() == [
        ("mailbox-mss", "jean.martin@medecin.mssante.fr")
    ]
    finess = Query.organizations_by_finess("590064036")
    assert finess.to_params() == [
        ("identifier", "https://finess.esante.gouv.fr|590064036"),
        ("_revinclude", "PractitionerRole:organization"),
    ]
    assert finess.to_query_string().startswith("identifier=https%3A%2F%2Ffiness.esante.gouv.fr%7C590064036&")
    centres = Query(resource=ResourceType.ORGANIZATION).type("SA05", system=R02).mailbox("@", modifier="contains")
    assert centres.to_params() == [("type", f"{R02}|SA05"), ("mailbox-mss:contains", "@")]
    assert str(centres).endswith("&mailbox-mss%3Acontains=%40")
    subset = Query(resource="PractitionerRole").elements("telecom")
    assert subset.to_params() == [("_elements", "telecom")]
    assert subset.url() == "https://gateway.api.esante.gouv.fr/fhir/v2/PractitionerRole"
    assert subset.url("http://127.0.0.1:8080/fhir/v2/") == "http://127.0.0.1:8080/fhir/v2/PractitionerRole"


def test_the_typed_builder() -> None:
    query = (
        Query(resource="Practitioner")
        .name("ANDRE", modifier="contains")
        .name("MIGNOT", modifier="contains")
        .qualification(
            "10", system="https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
        )
        .last_updated("2025-09-27")
        .last_updated("2025-10-20T00:00:00+02:00", prefix="lt")
        .count(50)
        .count(200)
        .total("accurate")
        .active(value=False)
    )
    assert query.to_params() == [
        ("name:contains", "ANDRE"),
        ("name:contains", "MIGNOT"),
        (
            "qualification-code",
            "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante|10",
        ),
        ("_lastUpdated", "ge2025-09-27"),
        ("_lastUpdated", "lt2025-10-20T00:00:00+02:00"),
        ("_count", "200"),
        ("_total", "accurate"),
        ("active", "false"),
    ]
    role = (
        Query(resource="PractitionerRole")
        .practitioner("Practitioner/p1")
        .organization("Organization/o1")
        .role("318", system="https://mos.esante.gouv.fr/NOS/TRE_R85-RolePriseCharge/FHIR/TRE-R85-RolePriseCharge")
        .include("PractitionerRole:organization")
        .include("*")
    )
    assert [key for key, _ in role.to_params()] == ["practitioner", "organization", "role", "_include", "_include"]
    city = Query.organizations_by_city("Lyon", postcode="69003", with_mailbox=True)
    assert city.to_params() == [
        ("address-city", "Lyon"),
        ("address-postalcode", "69003"),
        ("mailbox-mss:contains", "@"),
        ("active", "true"),
    ]
    assert Query.organizations_by_city(postcode="69003").to_params()[0] == ("address-postalcode", "69003")
    owner = Query.by_address("a@x.mssante.fr", "PractitionerRole")
    assert owner.to_params()[1:] == [
        ("_include", "PractitionerRole:practitioner"),
        ("_include", "PractitionerRole:organization"),
    ]
    assert Query(resource="Practitioner").where("identifier", "10000001916,10001234567").params == (
        ("identifier", "10000001916,10001234567"),
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Query(resource="Practitioner").where("address-city", "Lyon"),
            "not a search parameter of Practitioner",
        ),
        (lambda: Query(resource="Practitioner").where("specialty", "SM54"), "use one of _count, _elements"),
        (lambda: Query(resource="Organization").where("family", "X"), "not a search parameter of Organization"),
        (lambda: Query(resource="Device"), "is not a valid ResourceType"),
        (lambda: Query(resource="Practitioner").where("_summary", "count"), "not a search parameter"),
        (lambda: Query(resource="Practitioner").count(MAX_COUNT + 1), "from 1 to 200"),
        (lambda: Query(resource="Practitioner").count(0), "from 1 to 200"),
        (lambda: Query(resource="Practitioner").where("_count", "500"), "from 1 to 200"),
        (lambda: Query(resource="Practitioner").total("all"), "_total is one of"),  # type: ignore[arg-type]
        (lambda: Query(resource="Practitioner").where("identifier:contains", "1"), "only the string parameters"),
        (lambda: Query(resource="Practitioner").where("family:above", "X"), "only the string parameters"),
        (lambda: Query(resource="Practitioner").include("PractitionerRole:organization"), "use one of none"),
        (lambda: Query(resource="Organization").revinclude("PractitionerRole:practitioner"), "not allowed"),
        (lambda: Query(resource="Practitioner").last_updated("2025-13"), "a FHIR date"),
        (lambda: Query(resource="Practitioner").last_updated("2025-09-27", prefix="after"), "a date prefix"),
        (lambda: Query(resource="Practitioner").where("active", "yes"), "true or false"),
        (lambda: Query(resource="Practitioner").elements("telecom", "x y"), "element names"),
        (lambda: Query(resource="Practitioner").family("DUPONT,MARTIN"), "Query.where"),
        (lambda: Query(resource="Practitioner").identifier("1|2"), "Query.where"),
        (lambda: Query(resource="Practitioner").family("  "), "is empty"),
        (lambda: Query(resource="Practitioner").where("family", "A\nB"), "printable"),
        (lambda: Query(resource="Practitioner").where("family", "x" * 3000), "printable"),
        (lambda: Query.by_rpps("1000123456"), "11 digits"),
        (lambda: Query.by_rpps("10001234567,1"), "11 digits"),
        (lambda: Query.by_idnps("8|1"), "IdNat_PS"),
        (lambda: Query.organizations_by_finess("59006403"), "FINESS"),
        (Query.organizations_by_city, "a city, a postcode"),
    ],
)
def test_queries_refused(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_the_search_of_the_command_line() -> None:
    people = Query.for_mailboxes(name="Jean  MARTIN", profession="10")
    assert people.to_params() == [
        ("name", "Jean"),
        ("name", "MARTIN"),
        ("qualification-code", "10"),
        ("active", "true"),
        ("_revinclude", "PractitionerRole:practitioner"),
    ]
    places = Query.for_mailboxes(city="Lyon", postcode="")
    assert places.to_params() == [
        ("address-city", "Lyon"),
        ("active", "true"),
        ("_revinclude", "PractitionerRole:organization"),
    ]
    with pytest.raises(ValueError, match="not both"):
        Query.for_mailboxes(name="MARTIN", postcode="69003")
    with pytest.raises(ValueError, match="give a name"):
        Query.for_mailboxes(name="")
    with pytest.raises(ValueError, match="TRE_G15 code"):
        Query.for_mailboxes(profession="médecin")


def test_the_error_for_an_unknown_parameter_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="specialty") as raised:
        Query(resource="PractitionerRole").where("specialty", "SM54")
    for name in ("mailbox-mss", "organization", "practitioner", "role", "_revinclude", "_lastUpdated"):
        assert name in str(raised.value)


def test_by_address_needs_a_valid_address_and_moments_need_a_zone() -> None:
    with pytest.raises(InvalidAddress):
        Query.by_address("jean.martin@")
    with pytest.raises(ValueError, match="timezone-aware"):
        Query(resource="Practitioner").last_updated(datetime(2025, 9, 27))
    aware = Query(resource="Practitioner").last_updated(datetime(2025, 9, 27, tzinfo=timezone.utc), prefix="gt")
    assert aware.params == (("_lastUpdated", "gt2025-09-27T00:00:00+00:00"),)
    assert Query(resource="Practitioner").last_updated(date(2025, 9, 27)).params == (("_lastUpdated", "ge2025-09-27"),)


# --- errors and hostile answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (401, DirectoryAuthError, "MSS-FHIR-011"),
        (403, DirectoryAuthError, "MSS-FHIR-011"),
        (404, DirectoryNotFound, "MSS-FHIR-012"),
        (429, DirectoryRateLimited, "MSS-FHIR-013"),
        (500, DirectoryUnavailable, "MSS-FHIR-014"),
        (504, DirectoryUnavailable, "MSS-FHIR-014"),
        (400, DirectoryBadRequest, "MSS-FHIR-016"),
        (410, DirectoryBadRequest, "MSS-FHIR-016"),
        (302, DirectoryResponseError, "MSS-FHIR-018"),
    ],
)
def test_errors_by_status(status: int, error: type[DirectoryFailure], code: str) -> None:
    found = error_for_status(status, b"<html><body>Gateway says no</body></html>", url="https://x/y")
    assert type(found) is error
    assert isinstance(found, DirectoryError)
    assert (found.code, found.status, found.diagnostics) == (code, status, ())
    assert "html" not in str(found)
    assert not found.report.ok


def test_gateway_json_and_bounded_diagnostics() -> None:
    assert outcome_diagnostics({"message": "Unauthorized", "http_status_code": 401}) == ("Unauthorized",)
    many = {"resourceType": "OperationOutcome", "issue": [{"diagnostics": "x" * 5000 + "\x1b[31m"}] * 50}
    diagnostics = outcome_diagnostics(many)
    assert len(diagnostics) == 10
    assert all(len(line) <= 500 and line.isprintable() for line in diagnostics)
    assert outcome_diagnostics([1, 2]) == ()
    assert outcome_diagnostics({"resourceType": "OperationOutcome", "issue": "x"}) == ()
    limited = error_for_status(429, b"", retry_after=30.0, attempts=5)
    assert isinstance(limited, DirectoryRateLimited)
    assert limited.retry_after == 30.0
    assert "5 attempts" in str(limited)
    assert "wait 30 s" in str(limited)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", NOT_JSON),
        (b"<html>502 Bad Gateway</html>", NOT_JSON),
        (b"\xff\xfe{}", NOT_JSON),
        (b"[" * 100_000 + b"]" * 100_000, NOT_JSON),
        (b'{"a":' * 60_000 + b"1" + b"}" * 60_000, NOT_JSON),
        (b'{"resourceType": "Bundle", "total": ' + b"9" * 5000 + b"}", NOT_JSON),
        (b'{"resourceType": "Bundle", "total": NaN}', NOT_JSON),
        (b"[]", NOT_EXPECTED),
        (b'"Bundle"', NOT_EXPECTED),
        (b'{"resourceType": 7}', NOT_EXPECTED),
        (b'{"resourceType": "Bundle", "link": {"relation": "next"}}', LINK_REFUSED),
        (b'{"resourceType": "Bundle", "link": [{"relation": "next", "url": 3}]}', LINK_REFUSED),
        (b'{"resourceType": "Bundle", "link": [{"relation": "next", "url": "a b"}]}', LINK_REFUSED),
        (b'{"resourceType": "OperationOutcome", "issue": [{"severity": "fatal"}]}', OUTCOME),
    ],
)
def test_hostile_bodies_are_refused(body: bytes, code: str) -> None:
    with pytest.raises(DirectoryResponseError) as raised:
        parse_bundle(body)
    assert raised.value.code == code


def test_a_body_over_the_limit_is_not_parsed() -> None:
    with pytest.raises(DirectoryResponseError) as raised:
        parse_bundle(b" " * 1001, max_bytes=1000)
    assert raised.value.code == TOO_LARGE
    huge = json.dumps(bundle(*[loaded("ig-Practitioner-334081DP.json")] * 20)).encode()
    assert len(parse_bundle(huge).resources) == 20
    with pytest.raises(DirectoryResponseError, match="over the limit"):
        parse_bundle(huge, max_bytes=len(huge) - 1)


def test_wrong_types_everywhere_are_skipped() -> None:
    data = {
        "resourceType": "Bundle",
        "total": "9903",
        "entry": [
            "x",
            {"resource": 3},
            {"resource": {"resourceType": ["Practitioner"]}},
            {
                "resource": {
                    "resourceType": "Practitioner",
                    "id": 5,
                    "active": "yes",
                    "identifier": {"system": IDNPS_SYSTEM},
                    "name": "DUPONT",
                    "telecom": {"system": "email"},
                    "extension": "MailboxMSS",
                    "qualification": [3, {"code": []}],
                }
            },
            {
                "resource": {
                    "resourceType": "Organization",
                    "identifier": [{"system": [1], "value": {}}, {"type": {"coding": [{"code": 7}]}, "value": "1"}],
                    "address": [{"line": "rue", "postalCode": 69003, "city": None}],
                    "telecom": [mss_telecom("a@x.mssante.fr", "type", {"url": ["type"]}, {"extension": 3})],
                }
            },
            {"resource": {"resourceType": "PractitionerRole", "practitioner": "Practitioner/1", "organization": {}}},
        ],
        "link": [3, {"relation": "self"}],
    }
    page = read_bundle(data)
    assert page.total is None
    assert page.next is None
    assert [type(r).__name__ for r in page.resources] == ["Practitioner", "Organization", "PractitionerRole"]
    assert page.report.codes == (ENTRY_SKIPPED, ENTRY_SKIPPED, ENTRY_SKIPPED)
    assert [m.address for m in page.mailboxes] == ["a@x.mssante.fr"]
    assert read_bundle({"resourceType": "Bundle", "entry": {}}).report.codes == (ENTRY_SKIPPED,)


def test_same_origin() -> None:
    base = "https://gateway.api.esante.gouv.fr/fhir/v2"
    assert same_origin(base, "https://gateway.api.esante.gouv.fr/fhir/v2/_page?id=abc")
    assert same_origin(base, "HTTPS://gateway.api.esante.gouv.fr:443/other")
    for url in (
        "http://gateway.api.esante.gouv.fr/fhir/v2/_page?id=abc",
        "https://gateway.api.esante.gouv.fr.evil.example/fhir/v2",
        "https://gateway.api.esante.gouv.fr:8443/fhir/v2",
        "https://user:pw@gateway.api.esante.gouv.fr/fhir/v2",
        "/fhir/v2/_page?id=abc",
        "https://[::1/",
        "",
    ):
        assert not same_origin(base, url), url


def test_codes_are_declared() -> None:
    declared = {code.id for code in finding_codes() if code.id.startswith("MSS-FHIR-")}
    assert declared == {f"MSS-FHIR-{n:03d}" for n in range(1, 20)}


def test_a_page_is_a_value() -> None:
    assert Page().mailboxes == ()
    assert Page().report.ok


# --- property tests ----------------------------------------------------------------------------------------------

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)
_KEYS = st.sampled_from(
    [
        "resourceType", "id", "entry", "resource", "telecom", "extension", "url", "system", "value", "valueCoding",
        "valueCodeableConcept", "valueBoolean", "valueString", "valueCode", "coding", "code", "identifier", "name",
        "family", "given", "prefix", "practitioner", "organization", "reference", "address", "line", "link",
        "relation", "total", "issue", "diagnostics", "qualification",
    ]
)  # fmt: skip
_VALUES = st.sampled_from(
    [
        "Bundle", "Practitioner", "PractitionerRole", "Organization", "OperationOutcome", "email", "MSSANTE", "type",
        "listeRouge", "next", "PER", "ORG", "a@x.mssante.fr", "bad@", EMAIL_TYPE, METADATA,
        "https://annuaire.sante.gouv.fr/fhir/StructureDefinition/MailboxMSS", IDNPS_SYSTEM, "Practitioner/1",
        "https://rpps.esante.gouv.fr", "810000001916",
    ]
)  # fmt: skip
FHIR_LIKE = st.recursive(
    _SCALARS | _VALUES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=6),
    max_leaves=60,
)


def refused(error: DirectoryResponseError, *expected: str) -> None:
    """A refusal as expected: one of the codes, a printable message."""
    assert error.code in expected
    assert str(error).isprintable()


def _parse_or_refuse(data: object) -> None:
    body = json.dumps(data).encode()
    for parse in (parse_bundle, parse_resource):
        try:
            result = parse(body)
        except DirectoryResponseError as caught:
            refused(caught, "MSS-FHIR-001", "MSS-FHIR-003", "MSS-FHIR-004", "MSS-FHIR-010")
            continue
        page = result if isinstance(result, Page) else Page(resources=(result[0],), report=result[1])
        for mailbox in page.mailboxes:
            assert "@" in mailbox.address
            assert mailbox.source == "fhir"


@settings(max_examples=150, deadline=None)
@given(JSON_VALUES)
def test_any_json_is_read_or_refused(data: object) -> None:
    _parse_or_refuse(data)


@settings(max_examples=300, deadline=None)
@given(FHIR_LIKE, st.sampled_from(["Bundle", "Practitioner", "PractitionerRole", "Organization"]))
def test_fhir_like_json_is_read_or_refused(data: object, resource_type: str) -> None:
    if isinstance(data, dict):
        data = {**data, "resourceType": resource_type}
        if resource_type == "Bundle":
            data["entry"] = [{"resource": {**data, "resourceType": t}} for t in ("Practitioner", "Organization")]
    _parse_or_refuse(data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused(body: bytes) -> None:
    try:
        parse_bundle(body)
    except DirectoryResponseError as caught:
        refused(caught, NOT_JSON, NOT_EXPECTED, OUTCOME, LINK_REFUSED)


def test_the_words_of_a_refusal_are_british_english() -> None:
    with pytest.raises(ValueError, match=r"^the organisation is empty$"):
        Query(resource="PractitionerRole").organization(" ")
