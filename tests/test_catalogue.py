"""Tests of the service catalogue (service_catalogue/services.yml) and its loader/validator."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import service_catalogue as catalogue
from service_catalogue import (
    CHOICE_TITLE_MAX,
    DEFAULT_PATH,
    FIELD_TYPES,
    KINDS,
    LABEL_MAX,
    Catalogue,
    CatalogueError,
    load,
    validate,
)

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "nlu-guide.md"
SYNONYM_LANGS = ("en", "hi", "hinglish")
DEVANAGARI = re.compile(r"[\u0900-\u097F]")


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load()


def _raw_shipped() -> dict[str, Any]:
    with DEFAULT_PATH.open(encoding="utf-8") as fh:
        raw: dict[str, Any] = yaml.safe_load(fh)
    return raw


SHIPPED_IDS = [s["id"] for s in _raw_shipped()["services"]]


# --------------------------------------------------------------------------- shipped catalogue


def test_shipped_catalogue_has_no_schema_errors() -> None:
    assert validate(_raw_shipped()) == []


def test_shipped_catalogue_size(cat: Catalogue) -> None:
    assert len(cat.services) >= 50
    assert len(cat.departments) >= 10
    for dept_id in cat.departments:
        assert cat.by_department(dept_id), f"department {dept_id} has no services"


def _guide_entity_values() -> tuple[list[str], dict[str, list[str]]]:
    """Department ids and {department: [service ids]} from docs/nlu-guide.md."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## Entity values", 1)[1]
    dept_part = section.split("`department`:", 1)[1].split("`service`", 1)[0]
    departments = re.findall(r"`([a-z_]+)`", dept_part)
    service_part = section.split("`service` (department in brackets):", 1)[1]
    service_part = service_part.split("\nIds:", 1)[0]
    services: dict[str, list[str]] = {}
    for dept, ids in re.findall(r"^- (\w+): (.*?)(?=^- |\Z)", service_part, re.M | re.S):
        services[dept] = [i.strip() for i in ids.replace("\n", " ").split(",") if i.strip()]
    return departments, services


def test_ids_and_departments_match_the_nlu_guide(cat: Catalogue) -> None:
    if not GUIDE.exists():
        pytest.skip("docs/nlu-guide.md not present")
    departments, services = _guide_entity_values()
    assert len(departments) == 11 and sum(map(len, services.values())) == 52  # parser sanity
    assert sorted(cat.departments) == sorted(departments)
    assert sorted(services) == sorted(departments)
    expected = {sid: dept for dept, ids in services.items() for sid in ids}
    actual = {sid: s.department for sid, s in cat.services.items()}
    assert actual == expected


@pytest.mark.parametrize("service_id", SHIPPED_IDS)
def test_every_service_has_names_and_synonyms(cat: Catalogue, service_id: str) -> None:
    service = cat.services[service_id]
    assert service.title("en").strip() and not DEVANAGARI.search(service.title("en"))
    assert DEVANAGARI.search(service.title("hi"))
    assert service.title("hi") != service.title("en")
    assert service.title("hinglish") == service.title("en")  # falls back to English
    for lang in SYNONYM_LANGS:
        synonyms = [s for s in service.synonyms[lang] if s.strip()]
        assert len(synonyms) >= 3, f"{service_id}: {lang} synonyms {synonyms}"
    assert all(DEVANAGARI.search(s) for s in service.synonyms["hi"])
    assert not any(DEVANAGARI.search(s) for s in service.synonyms["hinglish"])
    assert service.eligibility["en"].strip() and DEVANAGARI.search(service.eligibility["hi"])
    assert 3 <= len(service.fields) <= 7


def test_every_department_has_names_and_synonyms(cat: Catalogue) -> None:
    for dept in cat.departments.values():
        assert dept.title("en") and DEVANAGARI.search(dept.title("hi"))
        for lang in SYNONYM_LANGS:
            assert len(dept.synonyms[lang]) >= 3, f"{dept.id}: {lang}"


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[-_/.,'()]", " ", text.casefold().replace("\u093c", "")).split())


def test_no_synonym_is_shared_by_two_services_or_departments(cat: Catalogue) -> None:
    owners: dict[str, set[str]] = {}
    for service in cat.services.values():
        for text in [
            *service.name.values(),
            *(s for lst in service.synonyms.values() for s in lst),
        ]:
            owners.setdefault(_norm(text), set()).add(f"service {service.id}")
    for dept in cat.departments.values():
        for text in [*dept.name.values(), *(s for lst in dept.synonyms.values() for s in lst)]:
            owners.setdefault(_norm(text), set()).add(f"department {dept.id}")
    shared = {text: who for text, who in owners.items() if len(who) > 1}
    assert shared == {}


def test_citizen_spellings_resolve_to_one_service(cat: Catalogue) -> None:
    index = {
        _norm(s): service.id
        for service in cat.services.values()
        for lst in service.synonyms.values()
        for s in lst
    }
    assert index["janam praman patra"] == "birth_certificate"
    assert index["janm pramanpatra"] == "birth_certificate"
    assert index["birth certificat"] == "birth_certificate"
    assert index["budhapa pension"] == "old_age_pension"
    assert index["vridhavastha pension"] == "old_age_pension"
    assert index["dl"] == "driving_licence"
    assert index["जाति प्रमाण पत्र"] == "caste_certificate"
    assert index["ration card"] == "ration_card"


def test_choice_fields_fit_whatsapp_buttons(cat: Catalogue) -> None:
    for service in cat.services.values():
        for field in service.fields:
            if field.type != "choice":
                assert field.choices == []
                continue
            assert 2 <= len(field.choices) <= 10, f"{service.id}.{field.id}"
            for choice in field.choices:
                for lang in ("en", "hi"):
                    assert 0 < len(choice.title(lang)) <= CHOICE_TITLE_MAX, (
                        f"{service.id}.{field.id}.{choice.id}"
                    )


def test_field_ids_mean_the_same_thing_everywhere(cat: Catalogue) -> None:
    expected_types = {
        "applicant_name": "name",
        "father_name": "name",
        "date_of_birth": "date",
        "gender": "choice",
        "address": "address",
        "pin_code": "pin",
        "mobile": "mobile",
        "aadhaar": "aadhaar",
        "annual_income": "amount",
    }
    for service in cat.services.values():
        for field in service.fields:
            assert field.type in FIELD_TYPES
            if field.id in expected_types:
                assert field.type == expected_types[field.id], f"{service.id}.{field.id}"
            if field.type == "aadhaar":
                assert field.id == "aadhaar", f"{service.id}.{field.id}"
            if field.id == "date_of_birth":
                assert field.past_only and not field.future_only, service.id
            if field.id == "gender":
                assert [c.id for c in field.choices] == ["male", "female", "other"]
            if field.type == "choice":
                assert field.choice(field.choices[0].id) is field.choices[0]
                assert field.choice("no_such_choice") is None
        assert len({f.id for f in service.fields}) == len(service.fields)


def test_fees_and_kinds_are_sensible(cat: Catalogue) -> None:
    for service in cat.services.values():
        assert service.kind in KINDS
        assert isinstance(service.fee, int) and service.fee >= 0
        assert 1 <= service.sla_days <= 90, service.id
        if service.kind in ("scheme", "bill"):
            assert service.fee == 0, f"{service.id}: schemes are free, bills take the bill amount"
        if service.kind == "bill":
            assert not service.issues_document
        if service.kind == "certificate":
            assert service.issues_document, service.id
    assert cat.services["old_age_pension"].sla_days >= 30


@pytest.mark.parametrize(
    ("service_id", "field_id", "good", "bad"),
    [
        ("water_bill", "k_number", ["1234567890"], ["12345", "12345678901", "K123456789"]),
        ("property_tax", "property_id", ["0123ABCD4567XYZ"], ["12345", "0123-ABCD-4567-XYZ"]),
        (
            "driving_licence_renewal",
            "dl_number",
            ["DL05 20150012345", "dl0520150012345"],
            ["DL5 123"],
        ),
        (
            "vehicle_ownership_transfer",
            "registration_number",
            ["DL 3C AB 1234", "dl3cab1234", "DL-01-C-7"],
            ["3C AB 1234", "DELHI 1234"],
        ),
        ("vehicle_registration", "chassis_number", ["MA3EWDE1S00123456"], ["MA3EWDE1S"]),
    ],
)
def test_identifier_patterns_accept_real_numbers(
    cat: Catalogue, service_id: str, field_id: str, good: list[str], bad: list[str]
) -> None:
    field = cat.services[service_id].field(field_id)
    assert field is not None and field.type == "text" and field.pattern
    for value in good:
        assert re.fullmatch(field.pattern, value), value
    for value in bad:
        assert not re.fullmatch(field.pattern, value), value


def test_bill_services_ask_for_the_bill_number(cat: Catalogue) -> None:
    bills = [s for s in cat.services.values() if s.kind == "bill"]
    assert {s.id for s in bills} == {"property_tax", "water_bill"}
    for service in bills:
        assert service.fields[0].type == "text" and service.fields[0].pattern


def test_load_caches_the_default_catalogue() -> None:
    assert load() is load()
    assert load(DEFAULT_PATH) is not load()  # explicit paths are read afresh
    assert load(DEFAULT_PATH) == load()


def test_by_department(cat: Catalogue) -> None:
    transport = [s.id for s in cat.by_department("transport")]
    assert transport == [
        "driving_licence",
        "learner_licence",
        "driving_licence_renewal",
        "duplicate_driving_licence",
        "vehicle_registration",
        "vehicle_ownership_transfer",
        "duplicate_rc",
    ]
    assert all(s.department == "transport" for s in cat.by_department("transport"))
    with pytest.raises(KeyError):
        cat.by_department("no_such_department")


def test_every_field_has_a_short_label_in_both_languages(cat: Catalogue) -> None:
    """Summaries and certificates show labels, never questions (issue 11, defect 13)."""
    count = 0
    for service in cat.services.values():
        for field in service.fields:
            en, hi = field.label("en"), field.label("hi")
            assert en and hi, (service.id, field.id)
            assert DEVANAGARI.search(hi) and not DEVANAGARI.search(en), (service.id, field.id)
            for text, question in ((en, field.ask("en")), (hi, field.ask("hi"))):
                assert "?" not in text and "(e.g." not in text and len(text) <= LABEL_MAX
                assert len(f"7. {text}") <= 24  # a WhatsApp list row, numbered
                assert text != question
            count += 1
    assert count == sum(len(s.fields) for s in cat.services.values()) >= 52 * 3


def test_labels_read_as_names_of_the_answer(cat: Catalogue) -> None:
    dl = cat.services["driving_licence_renewal"]
    assert [f.label("en") for f in dl.fields if f.id == "dl_number"] == ["Licence number"]
    assert dl.field("dl_number").label("hi") == "लाइसेंस नंबर"  # type: ignore[union-attr]
    income = cat.services["income_certificate"]
    assert income.field("purpose").label("hi") == "उद्देश्य"  # type: ignore[union-attr]
    # the same id names a different person where the question does
    scholarship = cat.services["post_matric_scholarship"]
    assert scholarship.field("applicant_name").label("en") == "Student's name"  # type: ignore[union-attr]


def test_model_objects(cat: Catalogue) -> None:
    dl = cat.services["driving_licence"]
    assert dl.title("en") == "Driving Licence"
    assert dl.title("hi") == "ड्राइविंग लाइसेंस"
    assert dl.issues_document and dl.kind == "licence"
    assert [f.id for f in dl.fields][0] == "applicant_name"
    assert dl.fields[0].ask("hi").endswith("?")
    assert all(d.title("hi") for d in dl.documents)
    assert cat.departments["transport"].title("hi") == "परिवहन विभाग"
    tanker = cat.services["water_tanker_request"].field("mobile")
    assert tanker is not None and tanker.optional
    assert cat.services["water_bill"].field("no_such_field") is None


# --------------------------------------------------------------------------- validate()


def _minimal() -> dict[str, Any]:
    """A small valid catalogue that each broken-input test breaks in one way."""
    return {
        "version": 1,
        "departments": {
            "transport": {
                "name": {"en": "Transport Department", "hi": "परिवहन विभाग"},
                "synonyms": {
                    "en": ["transport", "rto", "transport department"],
                    "hi": ["परिवहन", "आरटीओ", "परिवहन विभाग"],
                    "hinglish": ["parivahan", "rto office", "parivahan vibhag"],
                },
            }
        },
        "services": [
            {
                "id": "driving_licence",
                "department": "transport",
                "kind": "licence",
                "issues_document": True,
                "name": {"en": "Driving Licence", "hi": "ड्राइविंग लाइसेंस"},
                "synonyms": {
                    "en": ["driving license", "dl", "new driving licence"],
                    "hi": ["डीएल", "पक्का लाइसेंस", "ड्राइविंग लाइसेंस बनवाना"],
                    "hinglish": ["driving licence banwana", "lisens", "pakka license"],
                },
                "fee": 500,
                "sla_days": 7,
                "eligibility": {"en": "Learner licence holders.", "hi": "लर्नर लाइसेंस धारक।"},
                "documents": [
                    {
                        "id": "address_proof",
                        "name": {"en": "Address proof", "hi": "पते का प्रमाण"},
                        "required": True,
                    }
                ],
                "fields": [
                    {
                        "id": "applicant_name",
                        "type": "name",
                        "question": {"en": "Your name?", "hi": "आपका नाम?"},
                        "label": {"en": "Name", "hi": "नाम"},
                    },
                    {
                        "id": "date_of_birth",
                        "type": "date",
                        "past_only": True,
                        "question": {"en": "Date of birth?", "hi": "जन्म तिथि?"},
                        "label": {"en": "Date of birth", "hi": "जन्म तिथि"},
                    },
                    {
                        "id": "vehicle_class",
                        "type": "choice",
                        "choices": [
                            {"id": "mcwg", "en": "Motorcycle", "hi": "मोटरसाइकिल"},
                            {"id": "lmv", "en": "Car", "hi": "कार"},
                        ],
                        "question": {"en": "Which vehicle?", "hi": "कौन सा वाहन?"},
                        "label": {"en": "Vehicle", "hi": "वाहन"},
                    },
                    {
                        "id": "learner_licence_number",
                        "type": "text",
                        "max_length": 20,
                        "pattern": r"^[A-Za-z]{2}\d{13}$",
                        "question": {"en": "Learner licence number?", "hi": "लर्नर लाइसेंस नंबर?"},
                        "label": {"en": "Learner licence", "hi": "लर्नर लाइसेंस"},
                    },
                    {
                        "id": "annual_income",
                        "type": "amount",
                        "min": 0,
                        "max": 10000000,
                        "optional": True,
                        "question": {"en": "Family income?", "hi": "परिवार की आय?"},
                        "label": {"en": "Family income", "hi": "परिवार की आय"},
                    },
                ],
            },
            {
                "id": "learner_licence",
                "department": "transport",
                "kind": "licence",
                "issues_document": True,
                "name": {"en": "Learner Licence", "hi": "लर्नर लाइसेंस"},
                "synonyms": {
                    "en": ["learner license", "ll", "learning licence"],
                    "hi": ["कच्चा लाइसेंस", "लर्निंग लाइसेंस", "शिक्षार्थी लाइसेंस"],
                    "hinglish": ["kaccha license", "kacha licence", "ll banwana"],
                },
                "fee": 200,
                "sla_days": 1,
                "eligibility": {"en": "Aged 18 or above.", "hi": "18 वर्ष या अधिक।"},
                "documents": [],
                "fields": [
                    {
                        "id": "applicant_name",
                        "type": "name",
                        "question": {"en": "Your name?", "hi": "आपका नाम?"},
                        "label": {"en": "Name", "hi": "नाम"},
                    },
                    {
                        "id": "gender",
                        "type": "choice",
                        "choices": [
                            {"id": "male", "en": "Male", "hi": "पुरुष"},
                            {"id": "female", "en": "Female", "hi": "महिला"},
                        ],
                        "question": {"en": "Gender?", "hi": "लिंग?"},
                        "label": {"en": "Gender", "hi": "लिंग"},
                    },
                    {
                        "id": "aadhaar",
                        "type": "aadhaar",
                        "question": {"en": "Aadhaar number?", "hi": "आधार नंबर?"},
                        "label": {"en": "Aadhaar", "hi": "आधार"},
                    },
                ],
            },
        ],
    }


def _svc(raw: dict[str, Any], index: int = 0) -> dict[str, Any]:
    service: dict[str, Any] = raw["services"][index]
    return service


def _fld(raw: dict[str, Any], field_id: str, index: int = 0) -> dict[str, Any]:
    return next(f for f in _svc(raw, index)["fields"] if f["id"] == field_id)


def test_minimal_catalogue_is_valid() -> None:
    assert validate(_minimal()) == []


Mutation = Callable[[dict[str, Any]], None]


def _set(path: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Mutation:
    def mutate(raw: dict[str, Any]) -> None:
        path(raw)[key] = value

    return mutate


def _delete(path: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Mutation:
    def mutate(raw: dict[str, Any]) -> None:
        del path(raw)[key]

    return mutate


def _dup_service(raw: dict[str, Any]) -> None:
    raw["services"].append(copy.deepcopy(raw["services"][0]))


def _dup_field(raw: dict[str, Any]) -> None:
    fields = _svc(raw)["fields"]
    fields.insert(1, copy.deepcopy(fields[0]))


def _shared_synonym(raw: dict[str, Any]) -> None:
    _svc(raw, 1)["synonyms"]["hinglish"].append("DL")  # case differs from 'dl'


def _shared_name(raw: dict[str, Any]) -> None:
    _svc(raw, 1)["synonyms"]["en"].append("Driving Licence")


def _dept_synonym_on_service(raw: dict[str, Any]) -> None:
    _svc(raw)["synonyms"]["en"].append("rto")


def _long_choice(raw: dict[str, Any]) -> None:
    _fld(raw, "vehicle_class")["choices"][1]["en"] = "Light motor vehicle (car)"


def _long_hindi_choice(raw: dict[str, Any]) -> None:
    _fld(raw, "vehicle_class")["choices"][1]["hi"] = "हल्का मोटर वाहन (कार या जीप)"


def _one_choice(raw: dict[str, Any]) -> None:
    del _fld(raw, "vehicle_class")["choices"][1]


def _yaml_boolean_choice_id(raw: dict[str, Any]) -> None:
    _fld(raw, "vehicle_class")["choices"][0]["id"] = True  # `id: yes` unquoted


def _dup_choice(raw: dict[str, Any]) -> None:
    _fld(raw, "vehicle_class")["choices"][1]["id"] = "mcwg"


def _too_few_fields(raw: dict[str, Any]) -> None:
    del _svc(raw, 1)["fields"][1:]


def _too_many_fields(raw: dict[str, Any]) -> None:
    fields = _svc(raw)["fields"]
    for n in range(3):
        fields.append(
            {
                "id": f"extra_{n}",
                "type": "text",
                "question": {"en": "Extra?", "hi": "और?"},
                "label": {"en": "Extra", "hi": "और"},
            }
        )


def _too_few_synonyms(raw: dict[str, Any]) -> None:
    _svc(raw)["synonyms"]["hinglish"] = ["lisens", "pakka license"]


def _missing_synonym_lang(raw: dict[str, Any]) -> None:
    del _svc(raw)["synonyms"]["hinglish"]


def _latin_hindi_synonym(raw: dict[str, Any]) -> None:
    _svc(raw)["synonyms"]["hi"].append("driving licence wala")


def _devanagari_hinglish_synonym(raw: dict[str, Any]) -> None:
    _svc(raw)["synonyms"]["hinglish"].append("लाइसेंस बनवाना")


def _aadhaar_wrong_id(raw: dict[str, Any]) -> None:
    _fld(raw, "aadhaar", 1)["id"] = "aadhaar_last4"


def _inconsistent_field_type(raw: dict[str, Any]) -> None:
    _fld(raw, "applicant_name", 1)["type"] = "text"


def _dup_document(raw: dict[str, Any]) -> None:
    docs = _svc(raw)["documents"]
    docs.append(copy.deepcopy(docs[0]))


def _bill_with_fee(raw: dict[str, Any]) -> None:
    _svc(raw)["kind"] = "bill"
    _svc(raw)["fee"] = 100


def _bill_without_number(raw: dict[str, Any]) -> None:
    _svc(raw)["kind"] = "bill"
    _svc(raw)["fee"] = 0
    del _fld(raw, "learner_licence_number")["pattern"]


def _unused_department(raw: dict[str, Any]) -> None:
    raw["departments"]["police"] = {
        "name": {"en": "Delhi Police", "hi": "दिल्ली पुलिस"},
        "synonyms": {
            "en": ["police", "delhi police", "police station"],
            "hi": ["पुलिस", "दिल्ली पुलिस", "थाना"],
            "hinglish": ["thana", "police thana", "dilli police"],
        },
    }


def _dept_missing_hindi(raw: dict[str, Any]) -> None:
    del raw["departments"]["transport"]["name"]["hi"]


BROKEN: list[tuple[str, Mutation, list[str]]] = [
    (
        "unknown field type",
        _set(lambda r: _fld(r, "applicant_name"), "type", "colour"),
        ["service 'driving_licence'", "field 'applicant_name'", "unknown field type 'colour'"],
    ),
    (
        "missing hi name",
        _delete(lambda r: _svc(r)["name"], "hi"),
        ["service 'driving_licence'", "name is missing 'hi' text"],
    ),
    (
        "missing en question",
        _delete(lambda r: _fld(r, "gender", 1)["question"], "en"),
        ["service 'learner_licence'", "field 'gender'", "question is missing 'en' text"],
    ),
    (
        "hi text not in Devanagari",
        _set(lambda r: _svc(r)["eligibility"], "hi", "Learner licence holders."),
        ["service 'driving_licence'", "eligibility 'hi' text must be in Devanagari"],
    ),
    (
        "unknown text language",
        _set(lambda r: _svc(r)["name"], "fr", "Permis de conduire"),
        ["service 'driving_licence'", "name has unknown language 'fr'"],
    ),
    ("duplicate service id", _dup_service, ["service 'driving_licence'", "duplicate service id"]),
    (
        "duplicate field id",
        _dup_field,
        ["service 'driving_licence'", "field 'applicant_name'", "duplicate field id"],
    ),
    (
        "synonym shared by two services",
        _shared_synonym,
        ["service 'learner_licence'", "'DL'", "already used by service 'driving_licence'"],
    ),
    (
        "synonym equal to another service's name",
        _shared_name,
        ["service 'learner_licence'", "'Driving Licence'", "service 'driving_licence'"],
    ),
    (
        "synonym shared with a department",
        _dept_synonym_on_service,
        ["service 'driving_licence'", "'rto'", "already used by department 'transport'"],
    ),
    (
        "unknown department",
        _set(_svc, "department", "rto"),
        ["service 'driving_licence'", "unknown department 'rto'"],
    ),
    (
        "negative fee",
        _set(_svc, "fee", -50),
        ["service 'driving_licence'", "fee must not be negative"],
    ),
    (
        "fee not a whole number",
        _set(_svc, "fee", "200 rupees"),
        ["service 'driving_licence'", "fee must be a whole number"],
    ),
    (
        "fee is a boolean",
        _set(_svc, "fee", True),
        ["service 'driving_licence'", "fee must be a whole number"],
    ),
    ("zero sla", _set(_svc, "sla_days", 0), ["service 'driving_licence'", "sla_days must be"]),
    (
        "unknown kind",
        _set(_svc, "kind", "permit"),
        ["service 'driving_licence'", "unknown kind 'permit'"],
    ),
    (
        "issues_document not boolean",
        _set(_svc, "issues_document", "yes please"),
        ["service 'driving_licence'", "issues_document must be true or false"],
    ),
    (
        "missing eligibility",
        _delete(_svc, "eligibility"),
        ["service 'driving_licence'", "missing required key 'eligibility'"],
    ),
    (
        "unknown service key (typo)",
        _set(_svc, "sla", 7),
        ["service 'driving_licence'", "unknown key 'sla'"],
    ),
    (
        "service id not snake_case",
        _set(_svc, "id", "Driving-Licence"),
        ["service 'Driving-Licence'", "id must be snake_case"],
    ),
    (
        "choice title too long (en)",
        _long_choice,
        [
            "service 'driving_licence'",
            "field 'vehicle_class'",
            "choice 'lmv'",
            "25 characters, max 20",
        ],
    ),
    (
        "choice title too long (hi)",
        _long_hindi_choice,
        ["service 'driving_licence'", "choice 'lmv'", "'hi' title", "max 20"],
    ),
    (
        "only one choice",
        _one_choice,
        ["service 'driving_licence'", "field 'vehicle_class'", "2 to 10 choices, has 1"],
    ),
    (
        "YAML boolean choice id",
        _yaml_boolean_choice_id,
        ["service 'driving_licence'", "choices[0]", "snake_case string, got True"],
    ),
    (
        "duplicate choice id",
        _dup_choice,
        ["service 'driving_licence'", "choice 'mcwg'", "duplicate choice id"],
    ),
    (
        "bad regex pattern",
        _set(lambda r: _fld(r, "learner_licence_number"), "pattern", "^[A-Z{2}(\\d+$"),
        ["service 'driving_licence'", "field 'learner_licence_number'", "bad regex pattern"],
    ),
    (
        "pattern on a non-text field",
        _set(lambda r: _fld(r, "applicant_name"), "pattern", "^[a-z]+$"),
        [
            "service 'driving_licence'",
            "field 'applicant_name'",
            "key 'pattern' is not allowed for type 'name'",
        ],
    ),
    (
        "unknown field key (typo)",
        _set(lambda r: _fld(r, "date_of_birth"), "pastonly", True),
        ["service 'driving_licence'", "field 'date_of_birth'", "unknown key 'pastonly'"],
    ),
    (
        "past_only and future_only",
        _set(lambda r: _fld(r, "date_of_birth"), "future_only", True),
        ["service 'driving_licence'", "field 'date_of_birth'", "cannot both be true"],
    ),
    (
        "min greater than max",
        _set(lambda r: _fld(r, "annual_income"), "min", 20000000),
        [
            "service 'driving_licence'",
            "field 'annual_income'",
            "min (20000000) is greater than max",
        ],
    ),
    (
        "negative amount min",
        _set(lambda r: _fld(r, "annual_income"), "min", -1),
        ["service 'driving_licence'", "field 'annual_income'", "must not be negative"],
    ),
    (
        "bad max_length",
        _set(lambda r: _fld(r, "learner_licence_number"), "max_length", 0),
        ["service 'driving_licence'", "field 'learner_licence_number'", "max_length must be"],
    ),
    (
        "optional not boolean",
        _set(lambda r: _fld(r, "annual_income"), "optional", "maybe"),
        ["service 'driving_licence'", "field 'annual_income'", "optional must be true or false"],
    ),
    (
        "field id not snake_case",
        _set(lambda r: _fld(r, "applicant_name"), "id", "applicantName"),
        ["service 'driving_licence'", "field 'applicantName'", "id must be snake_case"],
    ),
    ("too few fields", _too_few_fields, ["service 'learner_licence'", "3 to 7 fields, has 1"]),
    ("too many fields", _too_many_fields, ["service 'driving_licence'", "3 to 7 fields, has 8"]),
    (
        "too few synonyms",
        _too_few_synonyms,
        ["service 'driving_licence'", "at least 3 'hinglish' synonyms, has 2"],
    ),
    (
        "missing synonym language",
        _missing_synonym_lang,
        ["service 'driving_licence'", "missing the 'hinglish' list"],
    ),
    (
        "Hindi synonym in Roman letters",
        _latin_hindi_synonym,
        ["service 'driving_licence'", "'driving licence wala' (hi)", "Devanagari only"],
    ),
    (
        "Hinglish synonym in Devanagari",
        _devanagari_hinglish_synonym,
        ["service 'driving_licence'", "(hinglish)", "Roman letters"],
    ),
    (
        "Aadhaar under another field id",
        _aadhaar_wrong_id,
        [
            "service 'learner_licence'",
            "field 'aadhaar_last4'",
            "field id 'aadhaar' of type 'aadhaar'",
        ],
    ),
    (
        "same field id with another type",
        _inconsistent_field_type,
        [
            "service 'learner_licence'",
            "field 'applicant_name'",
            "differs from type 'name'",
            "'driving_licence'",
        ],
    ),
    (
        "duplicate document id",
        _dup_document,
        ["service 'driving_licence'", "document 'address_proof'", "duplicate"],
    ),
    (
        "document required not boolean",
        _set(lambda r: _svc(r)["documents"][0], "required", "yes"),
        ["service 'driving_licence'", "document 'address_proof'", "required must be true or false"],
    ),
    (
        "bill with a fee",
        _bill_with_fee,
        ["service 'driving_licence'", "bill services must have fee 0"],
    ),
    (
        "bill without a bill number field",
        _bill_without_number,
        ["service 'driving_licence'", "bill services must ask for the bill/property number"],
    ),
    ("department without services", _unused_department, ["department 'police'", "has no services"]),
    (
        "department missing hi name",
        _dept_missing_hindi,
        ["department 'transport'", "name is missing 'hi' text"],
    ),
    ("wrong version", _set(lambda r: r, "version", 2), ["catalogue", "version must be 1"]),
    (
        "field without a label",
        _delete(lambda r: _fld(r, "vehicle_class"), "label"),
        ["service 'driving_licence'", "field 'vehicle_class'", "missing 'label'"],
    ),
    (
        "label without Hindi",
        _delete(lambda r: _fld(r, "gender", 1)["label"], "hi"),
        ["service 'learner_licence'", "field 'gender'", "label is missing 'hi' text"],
    ),
    (
        "label without English",
        _delete(lambda r: _fld(r, "applicant_name")["label"], "en"),
        ["service 'driving_licence'", "field 'applicant_name'", "label is missing 'en' text"],
    ),
    (
        "label that is the question",
        _set(
            lambda r: _fld(r, "date_of_birth"), "label", {"en": "Date of birth?", "hi": "जन्म तिथि"}
        ),
        ["field 'date_of_birth'", "label 'en'", "not ask for it"],
    ),
    (
        "label too long",
        _set(
            lambda r: _fld(r, "aadhaar", 1)["label"],
            "en",
            "Aadhaar number of the applicant, stored masked",
        ),
        ["field 'aadhaar'", "label 'en'", "longer than 21"],
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [(m, e) for _, m, e in BROKEN], ids=[name for name, _, _ in BROKEN]
)
def test_validate_reports_specific_errors(mutate: Mutation, expected: list[str]) -> None:
    raw = _minimal()
    mutate(raw)
    errors = validate(raw)
    assert errors, "the broken catalogue was accepted"
    matching = [e for e in errors if all(part in e for part in expected)]
    assert matching, f"no error mentions {expected}; got {errors}"
    assert len(errors) == 1, f"expected exactly one error, got {errors}"


@pytest.mark.parametrize(
    "raw",
    [None, [], "services", {"version": 1}, {"version": 1, "departments": [], "services": {}}],
    ids=["none", "list", "string", "empty", "wrong-containers"],
)
def test_validate_never_raises_on_garbage(raw: Any) -> None:
    errors = validate(raw)
    assert errors and all(isinstance(e, str) for e in errors)


def test_validate_survives_unhashable_values() -> None:
    raw = _minimal()
    _svc(raw)["department"] = ["transport"]
    _svc(raw)["kind"] = {"licence": True}
    _fld(raw, "applicant_name")["type"] = ["name"]
    errors = validate(raw)
    assert any("unknown department" in e for e in errors)
    assert any("unknown kind" in e for e in errors)
    assert any("unknown field type" in e for e in errors)


# --------------------------------------------------------------------------- load()


def test_load_raises_catalogue_error_listing_problems(tmp_path: Path) -> None:
    raw = _minimal()
    _svc(raw)["fee"] = -1
    _fld(raw, "gender", 1)["type"] = "colour"
    path = tmp_path / "services.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load(path)
    assert len(info.value.errors) == 2
    message = str(info.value)
    assert "service 'driving_licence': fee must not be negative" in message
    assert "service 'learner_licence': field 'gender': unknown field type 'colour'" in message
    assert str(path) in message


def test_load_reads_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "services.yml"
    path.write_text(yaml.safe_dump(_minimal(), allow_unicode=True), encoding="utf-8")
    cat = load(path)
    assert list(cat.services) == ["driving_licence", "learner_licence"]
    dl = cat.services["driving_licence"]
    assert dl.fee == 500 and dl.documents[0].required
    income = dl.field("annual_income")
    assert income is not None and income.optional and (income.min, income.max) == (0, 10000000)
    vehicle = dl.field("vehicle_class")
    assert vehicle is not None and vehicle.choices[1].title("hi") == "कार"
    assert vehicle.choices[1].title("hinglish") == "Car"


def test_load_rejects_unquoted_yes_no_choice_ids(tmp_path: Path) -> None:
    text = yaml.safe_dump(_minimal(), allow_unicode=True).replace("id: mcwg", "id: yes")
    path = tmp_path / "services.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match="got True"):
        load(path)


def test_load_rejects_duplicate_yaml_keys(tmp_path: Path) -> None:
    text = yaml.safe_dump(_minimal(), allow_unicode=True).replace(
        "fee: 500\n", "fee: 500\n  fee: 5000\n", 1
    )
    assert text.count("fee: 5000") == 1
    path = tmp_path / "services.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match="duplicate key 'fee'"):
        load(path)


def test_load_reports_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 1\nservices: [\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="YAML error"):
        load(bad)
    listing = tmp_path / "list.yml"
    listing.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="must contain a mapping"):
        load(listing)


def test_catalogue_error_is_a_value_error() -> None:
    error = CatalogueError(["service 'x': fee must not be negative, got -1"])
    assert isinstance(error, ValueError)
    assert error.errors == ["service 'x': fee must not be negative, got -1"]
    assert catalogue.CatalogueError is CatalogueError
