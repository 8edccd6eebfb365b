"""service_catalogue is split into its model (frozen dataclasses) and its schema check,
and every name it offered before is still importable from the package itself."""

import service_catalogue
from service_catalogue import model, schema

BEFORE_THE_SPLIT = [
    "CHOICE_TITLE_MAX",
    "DEFAULT_PATH",
    "FIELD_TYPES",
    "KINDS",
    "LABEL_MAX",
    "MAX_CHOICES",
    "MAX_FIELDS",
    "MIN_CHOICES",
    "MIN_FIELDS",
    "MIN_SYNONYMS",
    "SYNONYM_LANGS",
    "TEXT_LANGS",
    "Catalogue",
    "CatalogueError",
    "Choice",
    "Department",
    "Document",
    "Field",
    "ReminderSettings",
    "Service",
    "load",
    "normalise_synonym",
    "pick",
    "validate",
]


def test_every_public_name_is_still_importable_from_the_package():
    missing = [name for name in BEFORE_THE_SPLIT if not hasattr(service_catalogue, name)]
    assert missing == []
    assert service_catalogue.validate is schema.validate
    assert service_catalogue.Service is model.Service


def test_the_schema_check_needs_no_file_and_the_model_no_yaml():
    assert "yaml" not in vars(model) and "yaml" not in vars(schema)
    assert service_catalogue.validate({"version": 2}) == [
        "catalogue: version must be 1, got 2",
        "catalogue: 'departments' must be a non-empty mapping of id -> department",
        "catalogue: 'services' must be a non-empty list",
    ]
