"""FHIR Patch bodies for publishing mailboxes: the draft API's examples reproduced, its rules enforced.

Fixtures (tests/data/directory/fhir/): ``mssig-patch-*.json`` and ``mssig-operationoutcome-412-conditional-patch.json``
are verbatim from the draft MSS IG ("API Messagerie Sécurisée de Santé", pages "Écriture (PATCH)" and
"Opérations combinées", and ``openapi-balmss.yaml`` of ansforge/IG-fhir-annuaire @5fbc358d).
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mssante.addresses import Address, MailboxType
from mssante.directory import MODIFIABLE, MailboxPatch, MailboxPublisher, PatchTarget
from mssante.errors import DirectoryError, InvalidInput

DATA = Path(__file__).parent.parent / "data" / "directory" / "fhir"


def fixture(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def test_insert_of_an_organisation_mailbox_is_the_specification_example() -> None:
    patch = MailboxPatch.for_target(PatchTarget.of("finess", "123456789"))
    patch.insert("structure@domain.mssante.fr", "ORG", description="BAL principale de la structure")
    assert patch.to_json() == fixture("mssig-patch-insert-bal-org.json")
    assert json.loads(patch.to_bytes()) == fixture("mssig-patch-insert-bal-org.json")


def test_combined_operations_are_the_specification_example() -> None:
    patch = MailboxPatch(resource_type="Practitioner")
    patch.replace("jean.dupont.pro@domain.mssante.fr", MailboxType.PER, "listeRouge", True)
    patch.delete("jean.dupont.ancien@domain.mssante.fr", "PER")
    assert patch.to_json() == fixture("mssig-patch-listerouge-and-delete-bal-per.json")


def test_conditional_patch_urls() -> None:
    base = "https://gateway.example/fhir/mss"
    assert PatchTarget.of("finess", "123456789").url(base) == (
        f"{base}/Organization?identifier=https://finess.esante.gouv.fr%7C123456789"
    )
    assert PatchTarget.of("idnps", "800012345678").url(base + "/") == (
        f"{base}/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1%7C800012345678"
    )
    assert PatchTarget.of("situation", "1010399870").resource_type == "PractitionerRole"


@pytest.mark.parametrize(
    ("action", "code"),
    [
        (lambda p: p.insert("not-an-address", "PER"), "MSS-PUB-001"),
        (lambda p: p.insert("dr@gmail.com", "PER"), "MSS-PUB-001"),
        (lambda p: p.delete("o'brien@chu.mssante.fr", "PER"), "MSS-PUB-001"),
        (lambda p: p.insert("bal@chu.mssante.fr", "ORG"), "MSS-PUB-002"),
        (lambda p: p.replace("dr@chu.mssante.fr", "PER", "address", "x@chu.mssante.fr"), "MSS-PUB-003"),
        (lambda p: p.replace("dr@chu.mssante.fr", "PER", "type", "ORG"), "MSS-PUB-003"),
        (lambda p: p.replace("dr@chu.mssante.fr", "PER", "description", "x"), "MSS-PUB-004"),
        (lambda p: p.insert("dr@chu.mssante.fr", "PER", service="Cardiologie"), "MSS-PUB-004"),
        (lambda p: p.replace("dr@chu.mssante.fr", "PER", "listeRouge", "yes"), "MSS-PUB-005"),
        (lambda p: p.replace("dr@chu.mssante.fr", "PER", "rank", 0), "MSS-PUB-005"),
        (lambda p: p.to_json(), "MSS-PUB-007"),
    ],
    ids=["not-an-address", "not-mssante", "quote", "org-on-practitioner", "address-immutable", "type-immutable",
         "per-description", "per-service", "bad-boolean", "bad-rank", "empty"],
)  # fmt: skip
def test_the_rules_of_the_draft_api(action: Any, code: str) -> None:
    patch = MailboxPatch(resource_type="Practitioner")
    with pytest.raises(InvalidInput) as caught:
        action(patch)
    assert caught.value.report.codes == (code,)


def test_what_each_type_may_change() -> None:
    organisation = MailboxPatch(resource_type="Organization")
    for field in sorted(MODIFIABLE[MailboxType.ORG] - {"listeRouge", "rank"}):
        organisation.replace("bal@chu.mssante.fr", "ORG", field, "Texte")
    organisation.replace("bal@chu.mssante.fr", "APP", "rank", 1)
    assert len(organisation.to_json()["parameter"]) == 4
    with pytest.raises(ValueError, match="Practitioner, PractitionerRole or Organization"):
        MailboxPatch(resource_type="Device")
    with pytest.raises(ValueError, match="give one of"):
        PatchTarget.of("siret", "1")
    with pytest.raises(InvalidInput):
        PatchTarget.of("rpps", "1|2")


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=60)  # surrogates and controls included


def written_address(patch: MailboxPatch) -> str:
    (point,) = [part for part in json.loads(patch.to_bytes())["parameter"][-1]["part"] if part["name"] == "value"]
    value: str = point["valueContactPoint"]["value"]
    return value


@given(ANY_TEXT)
def test_any_text_is_a_clean_refusal_or_a_valid_operation(text: str) -> None:
    patch = MailboxPatch(resource_type="Organization")
    try:
        patch.insert(f"{text}@chu.mssante.fr", "ORG", description=text or "x")
    except InvalidInput as error:
        refused = error.report.codes
    else:
        refused = ()
        assert written_address(patch) == str(Address.parse(f"{text}@chu.mssante.fr"))
    assert set(refused) <= {"MSS-PUB-001", "MSS-PUB-005"}


@given(address=ANY_TEXT, text=ANY_TEXT, number=st.integers(min_value=-(2**64), max_value=2**64))
def test_any_input_gives_a_patch_or_the_librarys_error(address: str, text: str, number: int) -> None:
    actions: list[Callable[[MailboxPatch], object]] = [
        lambda p: p.insert(address, "ORG", description=text, service=text, responsible=text, index=number),
        lambda p: p.insert(f"{address}@chu.mssante.fr", "APP", description=text, index=number),
        lambda p: p.replace(f"{address}@chu.mssante.fr", "ORG", "description", text),
        lambda p: p.replace(f"bal@{address}.mssante.fr", "ORG", "rank", number),
        lambda p: p.delete(f"{address}@chu.mssante.fr", "ORG"),
        lambda p: p.insert("bal@chu.mssante.fr", text),
        lambda p: p.replace("bal@chu.mssante.fr", "ORG", text, text),
    ]
    for action in actions:
        patch = MailboxPatch(resource_type="Organization")
        try:
            action(patch)
        except InvalidInput as error:
            codes, shown, report = error.report.codes, str(error), error.report.to_dict()
            assert codes
            # The refusal itself can be shown and written: no caller's character is put in it unescaped.
            assert shown.encode()
            assert json.dumps(report, ensure_ascii=False).encode()
        else:
            body = patch.to_bytes()  # the checked values are what is written, and they encode
            assert json.loads(body) == patch.to_json()


HOSTILE_ADDRESSES = {
    "nul": "dr\x00x@chu.mssante.fr",
    "line-separator": "dr\u2028x@chu.mssante.fr",
    "next-line": "dr\x85x@chu.mssante.fr",
    "empty-label": "dr@..mssante.fr",
    "empty-inner-label": "dr@chu..mssante.fr",
    "100000-character-local-part": "a" * 100_000 + "@chu.mssante.fr",
    "lone-surrogate": "dr\ud800@chu.mssante.fr",
    "surrogate-in-domain": "dr@ch\udfffu.mssante.fr",
    "two-at-signs": "dr@x@chu.mssante.fr",
    "space-inside": "dr x@chu.mssante.fr",
    "trailing-dot": "dr@chu.mssante.fr.",
    "not-a-subdomain": "dr@mssante.fr",
    "look-alike": "dr@chu.mssante.fr.evil.example",
    "full-width-dot": "dr@chu\uff0emssante.fr",
    "quote": "o'brien@chu.mssante.fr",
    "backslash": "o\\brien@chu.mssante.fr",
    "patient": "279035121518989@patient.mssante.fr",
}


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES.values(), ids=HOSTILE_ADDRESSES.keys())
def test_hostile_addresses_are_refused_by_the_address_parser(address: str) -> None:
    actions: list[Callable[[MailboxPatch], object]] = [
        lambda p: p.insert(address, "ORG"),
        lambda p: p.replace(address, "ORG", "listeRouge", True),
        lambda p: p.delete(address, "ORG"),
    ]
    for action in actions:
        patch = MailboxPatch(resource_type="Organization")
        with pytest.raises(InvalidInput) as caught:
            action(patch)
        assert caught.value.report.codes == ("MSS-PUB-001",)
        assert patch.operations == []


def test_the_address_written_is_the_address_checked() -> None:
    patch = MailboxPatch(resource_type="Organization")
    patch.insert(" Secretariat@CHU-X.MSSante.fr\t", "ORG")
    assert written_address(patch) == "Secretariat@chu-x.mssante.fr"
    patch.insert("bal@hôpital.mssante.fr", "ORG")
    assert written_address(patch) == "bal@xn--hpital-ixa.mssante.fr"
    patch.delete("Bal@Hôpital.mssante.fr", "ORG")
    path = patch.to_json()["parameter"][-1]["part"][1]["valueString"]
    assert path == "Organization.telecom.where(value = 'Bal@xn--hpital-ixa.mssante.fr')"
    patch.insert(Address.parse("app@interop-mssante.apicrypt.org"), "APP")
    assert written_address(patch) == "app@interop-mssante.apicrypt.org"


INT_MAX = 2**31 - 1  # FHIR integer, positiveInt and unsignedInt all stop here


# --- the bodies read by an independent FHIR R4 implementation (fhir.resources) ---------------------------------


def fhir_r4() -> Any:
    """The FHIR R4 (4.0.1, the Annuaire Santé's version) models of fhir.resources: its releases 6.0 and 6.1.

    Skipped when they are not installed (fhir.resources is a development tool only); later releases model R4B
    and R5, not R4.
    """
    try:
        fhir = importlib.import_module("fhir.resources")
        modules = {name: importlib.import_module(f"fhir.resources.{name}") for name in _R4_MODULES}
    except Exception as error:  # absent, or beside a pydantic it cannot use
        pytest.skip(f"fhir.resources (R4 models, release 6.0 or 6.1) cannot be imported: {error}")
    if getattr(fhir, "__fhir_version__", "") != "4.0.1":
        pytest.skip(f"fhir.resources {getattr(fhir, '__version__', '?')} does not model FHIR R4 (4.0.1)")
    return modules


_R4_MODULES = ("parameters", "contactpoint", "extension", "organization", "practitioner")


def element_type(model: Any, element: str) -> str:
    """The FHIR type of ``element`` in ``model``, as fhir.resources declares it (``positiveInt``, ``ContactPoint``)."""
    declared = model.__fields__[element].type_
    name = getattr(declared, "__resource_type__", None) or getattr(declared, "__visit_name__", None)
    return str(name or {bool: "boolean", int: "integer", str: "string"}[declared])


_PRIMITIVES = frozenset(
    {
        "Base64Binary", "Boolean", "Canonical", "Code", "Date", "DateTime", "Decimal", "Id", "Instant", "Integer",
        "Markdown", "Oid", "PositiveInt", "String", "Time", "UnsignedInt", "Uri", "Url", "Uuid",
    }
)  # fmt: skip


def value_type(part: dict[str, Any]) -> str:
    """The FHIR type of a ``value[x]`` part: ``valuePositiveInt`` -> ``positiveInt``, ``valueContactPoint`` ->
    ``ContactPoint`` (primitive types start with a lower-case letter)."""
    (key,) = [key for key in part if key.startswith("value")]
    name = key.removeprefix("value")
    return name[0].lower() + name[1:] if name in _PRIMITIVES else name


def every_operation(resource_type: str, kind: str, address: str) -> MailboxPatch:
    """A patch with each kind of operation, on each field the mailbox type may change."""
    fields = sorted(MODIFIABLE[MailboxType(kind)] - {"listeRouge", "rank"})
    text = dict.fromkeys(fields, "Secrétariat « cardiologie » d’été")
    patch = MailboxPatch(resource_type=resource_type)
    patch.insert(address, kind, liste_rouge=True, index=1, **text)
    patch.replace(address, kind, "listeRouge", False)
    patch.replace(address, kind, "rank", 2)
    patch.add(address, kind, "rank", 1)
    for field in fields:
        patch.replace(address, kind, field, "Nouveau texte")
        patch.add(address, kind, field, "Texte ajouté")
    patch.add(address, kind, "listeRouge", True)
    patch.delete(address, kind)
    return patch


@pytest.mark.parametrize(
    ("resource_type", "kind", "address"),
    [("Organization", "ORG", "bal@chu.mssante.fr"), ("Organization", "APP", "app@chu.mssante.fr"),
     ("Practitioner", "PER", "dr.martin@medecin.mssante.fr"), ("Practitioner", "CAB", "cab@cabinet.mssante.fr")],
)  # fmt: skip
def test_every_operation_is_a_valid_r4_parameters_resource(resource_type: str, kind: str, address: str) -> None:
    r4 = fhir_r4()
    body = json.loads(every_operation(resource_type, kind, address).to_bytes())
    parsed = r4["parameters"].Parameters.parse_raw(every_operation(resource_type, kind, address).to_bytes())
    assert parsed.resource_type == "Parameters"
    assert json.loads(parsed.json()) == body  # nothing dropped, nothing added
    kinds = {
        part["valueCode"] for operation in body["parameter"] for part in operation["part"] if part["name"] == "type"
    }
    assert kinds == {"insert", "replace", "add", "delete"}


def test_a_rank_is_replaced_with_a_positive_int() -> None:
    r4 = fhir_r4()
    body = MailboxPatch(resource_type="Practitioner").replace("dr@chu.mssante.fr", "PER", "rank", 1).to_bytes()
    (operation,) = r4["parameters"].Parameters.parse_raw(body).parameter
    (value,) = [part for part in operation.part if part.name == "value"]
    assert value.valuePositiveInt == 1  # was valueInteger: ContactPoint.rank is a positiveInt
    assert element_type(r4["contactpoint"].ContactPoint, "rank") == "positiveInt"


def test_each_value_has_the_r4_type_of_the_element_it_sets() -> None:
    """A FHIR Patch value has the type of the element its path names: a rank is a positiveInt, not an integer."""
    r4 = fhir_r4()
    contact_point, extension = r4["contactpoint"].ContactPoint, r4["extension"].Extension
    metadata = {"listeRouge": "boolean", "description": "string", "service": "string", "responsible": "string"}
    body = json.loads(every_operation("Organization", "ORG", "bal@chu.mssante.fr").to_bytes())
    checked = 0
    for operation in body["parameter"]:
        parts = {part["name"]: part for part in operation["part"]}
        kind, path = parts["type"]["valueCode"], parts["path"]["valueString"]
        if kind == "insert":
            assert path == "Organization.telecom"
            assert value_type(parts["value"]) == element_type(r4["organization"].Organization, "telecom")
            contact_point.parse_obj(parts["value"]["valueContactPoint"])
        elif kind == "replace" and path.endswith(".rank"):
            assert value_type(parts["value"]) == element_type(contact_point, "rank") == "positiveInt"
        elif kind == "replace":
            field = path.split(".extension('")[-1].removesuffix("').value")
            assert value_type(parts["value"]) == metadata[field]
        elif kind == "add" and parts["name"]["valueString"] == "rank":
            assert value_type(parts["value"]) == element_type(contact_point, "rank")
        elif kind == "add":
            assert parts["name"]["valueString"] == "extension"
            # An Extension is no Parameters value type in R4: it is given as its parts, which make one.
            element = {part["name"]: part[next(key for key in part if key.startswith("value"))]
                       for part in parts["value"]["part"]}  # fmt: skip
            added = extension.parse_obj(element)
            assert value_type(element) == metadata[added.url]
        else:
            assert kind == "delete"
            continue
        checked += 1
    assert checked == 11


@pytest.mark.parametrize(
    ("rank", "accepted"),
    [(1, True), (INT_MAX, True), (0, False), (-1, False), (INT_MAX + 1, False), (10**40, False), (True, False),
     (1.0, False), ("1", False)],
)  # fmt: skip
def test_rank_is_a_fhir_positive_int(rank: object, accepted: bool) -> None:
    patch = MailboxPatch(resource_type="Organization")
    if accepted:
        patch.replace("bal@chu.mssante.fr", "ORG", "rank", rank)
        assert json.loads(patch.to_bytes())["parameter"][0]["part"][2] == {"name": "value", "valuePositiveInt": rank}
    else:
        with pytest.raises(InvalidInput) as caught:
            patch.replace("bal@chu.mssante.fr", "ORG", "rank", rank)
        assert caught.value.report.codes == ("MSS-PUB-005",)


@pytest.mark.parametrize(
    ("index", "accepted"),
    [(0, True), (3, True), (INT_MAX, True), (-1, False), (-(10**40), False), (INT_MAX + 1, False), (10**40, False),
     (True, False), (0.0, False), ("0", False)],
)  # fmt: skip
def test_insert_index_is_a_position_in_the_fhir_integer_range(index: object, accepted: bool) -> None:
    patch = MailboxPatch(resource_type="Organization")
    if accepted:
        patch.insert("bal@chu.mssante.fr", "ORG", index=index)  # type: ignore[arg-type]
        assert {"name": "index", "valueInteger": index} in json.loads(patch.to_bytes())["parameter"][0]["part"]
    else:
        with pytest.raises(InvalidInput) as caught:
            patch.insert("bal@chu.mssante.fr", "ORG", index=index)  # type: ignore[arg-type]
        assert caught.value.report.codes == ("MSS-PUB-005",)
        assert patch.operations == []


@pytest.mark.parametrize(
    "text",
    ["x\ud800", "\udc00", "a\u2028b", "a\u2029b", "a\x85b", "a\x00b", "a\nb", "   ", "x" * 1025],
    ids=["lone-high-surrogate", "lone-low-surrogate", "line-separator", "paragraph-separator", "next-line", "nul",
         "line-feed", "blank", "too-long"],
)  # fmt: skip
def test_a_text_field_that_cannot_be_written_is_refused_when_given(text: str) -> None:
    actions: list[Callable[[MailboxPatch], object]] = [
        lambda p: p.insert("bal@chu.mssante.fr", "ORG", description=text),
        lambda p: p.insert("bal@chu.mssante.fr", "ORG", service=text),
        lambda p: p.replace("bal@chu.mssante.fr", "ORG", "responsible", text),
    ]
    for action in actions:
        patch = MailboxPatch(resource_type="Organization")
        with pytest.raises(InvalidInput) as caught:
            action(patch)
        assert caught.value.report.codes == ("MSS-PUB-005",)
        with pytest.raises(InvalidInput):  # and the body is never one that would fail to encode
            patch.to_bytes()


def test_french_text_is_written_as_given() -> None:
    text = "Secrétariat\u00a0: cardiologie – « urgences » 👩\u200d⚕️"
    patch = MailboxPatch(resource_type="Organization").insert("bal@chu.mssante.fr", "ORG", description=text)
    assert text.encode() in patch.to_bytes()


@pytest.mark.parametrize("kind", ["XYZ", "per", "", "PER\x00"])
def test_an_unknown_mailbox_type_is_the_librarys_error(kind: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        MailboxPatch(resource_type="Organization").insert("bal@chu.mssante.fr", kind)
    assert caught.value.report.codes == ("MSS-PUB-005",)


@pytest.mark.parametrize("value", ["1" * 65, "١٢٣", "12\ud800", "12 3", "x" * 100_000])
def test_a_target_identifier_is_short_ascii_letters_and_digits(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        PatchTarget.of("finess", value)
    assert caught.value.report.codes == ("MSS-PUB-006",)


class _WriteEndpoint(BaseHTTPRequestHandler):
    """A stand-in for the draft write endpoint: 200 with the resource, or the 412 of the specification."""

    seen: ClassVar[list[tuple[str, str, bytes, str]]] = []

    def do_PATCH(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.path, self.headers["Content-Type"], body, self.headers["ESANTE-API-KEY"]))
        if "999999999" in self.path:
            status, answer = 412, (DATA / "mssig-operationoutcome-412-conditional-patch.json").read_bytes()
        else:
            status, answer = 200, json.dumps({"resourceType": "Organization", "id": "001-01-1"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WriteEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fhir/mss"
    server.shutdown()
    server.server_close()
    thread.join()


def test_publishing_is_an_explicit_opt_in() -> None:
    with pytest.raises(DirectoryError, match="draft"):
        MailboxPublisher("https://gateway.example/fhir/mss", api_key="k")


def test_a_patch_is_sent_and_its_answer_read(endpoint: str) -> None:
    target = PatchTarget.of("finess", "123456789")
    patch = MailboxPatch.for_target(target).insert("structure@domain.mssante.fr", "ORG", description="BAL")
    with MailboxPublisher(endpoint, api_key="secret", accept_draft_api=True) as publisher:
        assert publisher.publish(target, patch) == {"resourceType": "Organization", "id": "001-01-1"}
        path, content_type, body, key = _WriteEndpoint.seen[-1]
        assert path == "/fhir/mss/Organization?identifier=https://finess.esante.gouv.fr%7C123456789"
        assert (content_type, key) == ("application/fhir+json", "secret")
        assert json.loads(body) == patch.to_json()
        ambiguous = PatchTarget.of("finess", "999999999")
        with pytest.raises(DirectoryError, match="Multiple matches") as caught:
            publisher.publish(ambiguous, MailboxPatch.for_target(ambiguous).delete("x@domain.mssante.fr", "ORG"))
        assert "secret" not in str(caught.value)
        with pytest.raises(ValueError, match="a patch of Practitioner"):
            publisher.publish(target, MailboxPatch(resource_type="Practitioner").delete("x@a.mssante.fr", "PER"))
