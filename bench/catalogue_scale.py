""" "Adding a service is data, not code" at Aaple Sarkar's scale: 1,000 services.

    make bench-catalogue        # generate, validate, train the NLU, parse, page the menu
    python -m bench.catalogue_scale --services 1000 --out /tmp/scale

A generated catalogue of realistic variants (the 52 real services and 48 more kinds of
service, each also as duplicate, correction, renewal, cancellation, transfer, name
change, address change, appeal, re-issue, tatkal, certified copy and extension; a
variant the catalogue already has, by id or by any name, is left out), written under
``--out`` and never shipped: it is a scale fixture, validated by the same loader as
``services.yml``. Then, against
the real catalogue and the generated one, with the same training data:

- NLU training time (``rasa train nlu``, the project's pipeline with the catalogue's
  gazetteer; the target is 2 minutes for 1,000 services);
- parse latency (p50/p95 over the held-out sentences, the model loaded once);
- service-entity accuracy on held-out names: each service named in a sentence as people
  write it, exactly as a synonym, with a typo, and in another word order;
- how the service menu pages: rows per list message (at most 10), pages and taps to the
  last service of the largest department.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "service_catalogue" / "services.yml"

# (id suffix, en, hi, hinglish): "{}" is the service's name in that language
VARIANTS = [
    ("duplicate", "duplicate {}", "डुप्लीकेट {}", "duplicate {}"),
    ("correction", "correction in {}", "{} में सुधार", "{} me sudhar"),
    ("renewal", "renewal of {}", "{} का नवीनीकरण", "{} renew karna"),
    ("cancellation", "cancellation of {}", "{} रद्द करना", "{} cancel karna"),
    ("transfer", "transfer of {}", "{} का हस्तांतरण", "{} transfer karna"),
    ("name_change", "name change in {}", "{} में नाम परिवर्तन", "{} me naam badalna"),
    ("address_change", "address change in {}", "{} में पता परिवर्तन", "{} me pata badalna"),
    ("appeal", "appeal against rejection of {}", "{} अस्वीकृति पर अपील", "{} reject hone par appeal"),
    ("reissue", "reissue of {}", "{} दोबारा जारी करना", "{} dobara jari karna"),
    ("tatkal", "tatkal {}", "तत्काल {}", "tatkal {}"),
    ("certified_copy", "certified copy of {}", "{} की प्रमाणित प्रति", "{} ki certified copy"),
    ("extension", "extension of {}", "{} की अवधि बढ़ाना", "{} ki avadhi badhana"),
]

# 48 more kinds of service a state offers: (id, department, en, hi, hinglish)
MORE = [
    (
        "tree_felling_permission",
        "mcd",
        "tree felling permission",
        "पेड़ काटने की अनुमति",
        "ped katne ki anumati",
    ),
    (
        "shop_establishment_registration",
        "labour",
        "shop and establishment registration",
        "दुकान एवं स्थापना पंजीकरण",
        "dukan panjikaran",
    ),
    ("lift_licence", "labour", "lift licence", "लिफ्ट लाइसेंस", "lift ka license"),
    ("fire_noc", "mcd", "fire safety noc", "अग्नि सुरक्षा अनापत्ति", "fire ki noc"),
    (
        "building_plan_approval",
        "mcd",
        "building plan approval",
        "भवन नक्शा स्वीकृति",
        "naksha pass karwana",
    ),
    ("hawker_licence", "mcd", "street vendor licence", "रेहड़ी पटरी लाइसेंस", "rehri patri license"),
    (
        "pet_dog_registration",
        "mcd",
        "pet dog registration",
        "पालतू कुत्ता पंजीकरण",
        "kutte ka registration",
    ),
    (
        "cinema_licence",
        "police",
        "cinema hall licence",
        "सिनेमा हॉल लाइसेंस",
        "cinema hall ka license",
    ),
    ("arms_licence", "police", "arms licence", "शस्त्र लाइसेंस", "bandook ka license"),
    (
        "loudspeaker_permission",
        "police",
        "loudspeaker permission",
        "लाउडस्पीकर अनुमति",
        "loudspeaker ki permission",
    ),
    (
        "procession_permission",
        "police",
        "procession permission",
        "जुलूस की अनुमति",
        "julus ki anumati",
    ),
    (
        "tenant_verification",
        "police",
        "tenant verification",
        "किरायेदार सत्यापन",
        "kirayedar verification",
    ),
    (
        "domestic_help_verification",
        "police",
        "domestic help verification",
        "घरेलू सहायक सत्यापन",
        "naukar ka verification",
    ),
    (
        "lost_article_report",
        "police",
        "lost article report",
        "खोई वस्तु रिपोर्ट",
        "saman kho gaya report",
    ),
    ("sewer_connection", "djb", "sewer connection", "सीवर कनेक्शन", "sewer ka connection"),
    (
        "water_meter_replacement",
        "djb",
        "water meter replacement",
        "पानी मीटर बदलना",
        "pani ka meter badalna",
    ),
    ("water_tanker_booking", "djb", "water tanker booking", "पानी टैंकर बुकिंग", "tanker mangwana"),
    (
        "borewell_registration",
        "djb",
        "borewell registration",
        "बोरवेल पंजीकरण",
        "borewell ka registration",
    ),
    (
        "permit_autorickshaw",
        "transport",
        "auto rickshaw permit",
        "ऑटो रिक्शा परमिट",
        "auto ka permit",
    ),
    (
        "fitness_certificate_vehicle",
        "transport",
        "vehicle fitness certificate",
        "वाहन फिटनेस प्रमाण पत्र",
        "gadi ka fitness certificate",
    ),
    (
        "hypothecation_removal",
        "transport",
        "hypothecation removal",
        "हाइपोथिकेशन हटाना",
        "loan wali entry hatana",
    ),
    (
        "international_driving_permit",
        "transport",
        "international driving permit",
        "अंतर्राष्ट्रीय ड्राइविंग परमिट",
        "international driving permit",
    ),
    ("conductor_licence", "transport", "conductor licence", "कंडक्टर लाइसेंस", "conductor ka license"),
    ("ews_certificate", "revenue", "ews certificate", "ईडब्ल्यूएस प्रमाण पत्र", "ews praman patra"),
    (
        "solvency_certificate",
        "revenue",
        "solvency certificate",
        "हैसियत प्रमाण पत्र",
        "haisiyat praman patra",
    ),
    ("land_mutation", "revenue", "land mutation", "भूमि दाखिल खारिज", "dakhil kharij"),
    (
        "khasra_khatauni_copy",
        "revenue",
        "khasra khatauni copy",
        "खसरा खतौनी नकल",
        "khasra khatauni ki nakal",
    ),
    (
        "legal_heir_certificate",
        "revenue",
        "legal heir certificate",
        "उत्तराधिकार प्रमाण पत्र",
        "waris praman patra",
    ),
    (
        "surviving_member_certificate",
        "revenue",
        "surviving member certificate",
        "जीवित सदस्य प्रमाण पत्र",
        "jivit sadasya praman patra",
    ),
    ("gap_certificate", "education", "gap certificate", "गैप प्रमाण पत्र", "gap ka certificate"),
    (
        "migration_certificate",
        "education",
        "migration certificate",
        "माइग्रेशन प्रमाण पत्र",
        "migration ka certificate",
    ),
    (
        "school_leaving_certificate",
        "education",
        "school leaving certificate",
        "स्कूल छोड़ने का प्रमाण पत्र",
        "school chhodne ka certificate",
    ),
    (
        "free_uniform_scheme",
        "education",
        "free uniform scheme",
        "मुफ्त वर्दी योजना",
        "muft vardi yojana",
    ),
    (
        "medical_fitness_certificate",
        "health",
        "medical fitness certificate",
        "चिकित्सा फिटनेस प्रमाण पत्र",
        "medical fitness ka certificate",
    ),
    ("blood_bank_licence", "health", "blood bank licence", "ब्लड बैंक लाइसेंस", "blood bank ka license"),
    (
        "ambulance_registration",
        "health",
        "ambulance registration",
        "एम्बुलेंस पंजीकरण",
        "ambulance ka registration",
    ),
    (
        "pharmacy_licence",
        "health",
        "pharmacy licence",
        "दवा दुकान लाइसेंस",
        "dawai ki dukan ka license",
    ),
    (
        "widow_remarriage_grant",
        "social_welfare",
        "widow remarriage grant",
        "विधवा पुनर्विवाह अनुदान",
        "vidhwa punarvivah anudan",
    ),
    (
        "old_age_home_admission",
        "social_welfare",
        "old age home admission",
        "वृद्धाश्रम प्रवेश",
        "vridh ashram me dakhila",
    ),
    (
        "transgender_certificate",
        "social_welfare",
        "transgender identity certificate",
        "ट्रांसजेंडर पहचान प्रमाण पत्र",
        "transgender pehchan patra",
    ),
    (
        "creche_registration",
        "wcd",
        "creche registration",
        "शिशु गृह पंजीकरण",
        "creche ka registration",
    ),
    (
        "anganwadi_enrolment",
        "wcd",
        "anganwadi enrolment",
        "आंगनवाड़ी नामांकन",
        "anganwadi me naam likhwana",
    ),
    (
        "dowry_prohibition_complaint",
        "wcd",
        "dowry prohibition complaint",
        "दहेज निषेध शिकायत",
        "dahej ki shikayat",
    ),
    (
        "fair_price_shop_licence",
        "food_supplies",
        "fair price shop licence",
        "राशन दुकान लाइसेंस",
        "ration dukan ka license",
    ),
    ("kerosene_card", "food_supplies", "kerosene card", "केरोसिन कार्ड", "mitti tel card"),
    (
        "weights_measures_licence",
        "food_supplies",
        "weights and measures licence",
        "बाट माप लाइसेंस",
        "baat maap license",
    ),
    (
        "contract_labour_licence",
        "labour",
        "contract labour licence",
        "ठेका श्रम लाइसेंस",
        "theka majdoor license",
    ),
    (
        "boiler_registration",
        "labour",
        "boiler registration",
        "बॉयलर पंजीकरण",
        "boiler ka registration",
    ),
]


def title(text: str) -> str:
    return text[:1].upper() + text[1:]


def _phrases(service: dict[str, Any]) -> set[str]:
    names = [*service["name"].values(), *(p for ps in service["synonyms"].values() for p in ps)]
    return {" ".join(phrase.casefold().split()) for phrase in names}


def generate(count: int) -> dict[str, Any]:
    """The real catalogue with ``count`` services: real, more kinds, and their variants."""
    raw = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    real = raw["services"]
    by_kind = {s["kind"]: s for s in real if s["kind"] in ("certificate", "licence", "request")}
    bases = [copy.deepcopy(s) for s in real]
    known = {s["id"] for s in real}
    said = {phrase for s in real for phrase in _phrases(s)}
    for sid, department, en, hi, hinglish in MORE:
        if sid in known or {en, hi, hinglish} & said:  # the real catalogue has it
            continue
        kind = "licence" if "licence" in en or "permit" in en else "certificate"
        kind = kind if "certificate" in en or kind == "licence" else "request"
        base = copy.deepcopy(by_kind[kind])
        base.update(
            id=sid,
            department=department,
            kind=kind,
            name={"en": title(en), "hi": hi},
            synonyms={
                "en": [en, f"{en} application", f"apply {en}"],
                "hi": [hi, f"{hi} आवेदन", f"{hi} फॉर्म"],
                "hinglish": [hinglish, f"{hinglish} application", f"{hinglish} form"],
            },
        )
        bases.append(base)
    services = list(bases)
    ids = {s["id"] for s in services}
    taken = {phrase for s in services for phrase in _phrases(s)}
    for suffix, en, hi, hinglish in VARIANTS:
        for base in bases:
            if len(services) >= count:
                break
            variant = copy.deepcopy(base)
            variant["id"] = f"{base['id']}_{suffix}"
            variant["name"] = {
                "en": title(en.format(base["name"]["en"])),
                "hi": hi.format(base["name"]["hi"]),
            }
            variant["synonyms"] = {
                "en": [en.format(s) for s in base["synonyms"]["en"]],
                "hi": [hi.format(s) for s in base["synonyms"]["hi"]],
                "hinglish": [hinglish.format(s) for s in base["synonyms"]["hinglish"]],
            }
            phrases = _phrases(variant)
            if variant["id"] in ids or phrases & taken:  # the catalogue already has it
                continue
            ids.add(variant["id"])
            taken |= phrases
            services.append(variant)
    raw["services"] = services[:count]
    return raw


# ------------------------------------------------------------------------- held out
def typo(phrase: str, rng: random.Random) -> str:
    """One letter dropped from the longest Roman word (people type fast on phones)."""
    words = phrase.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) < 6 or not word.isascii():
        return phrase
    cut = rng.randrange(2, len(word) - 1)
    words[longest] = word[:cut] + word[cut + 1 :]
    return " ".join(words)


def held_out(raw: dict[str, Any], per_form: int, seed: int = 11) -> list[tuple[str, str, str]]:
    """(form, sentence, service id): services named as people write them."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible sample)
    services = raw["services"]
    chosen = rng.sample(services, min(per_form, len(services)))
    sentences = []
    for service in chosen:
        sid = service["id"]
        en = rng.choice(service["synonyms"]["en"])
        hi = rng.choice(service["synonyms"]["hi"])
        hinglish = rng.choice(service["synonyms"]["hinglish"])
        sentences += [
            ("exact (en)", f"I want to apply for {en}", sid),
            ("exact (hi)", f"मुझे {hi} चाहिए", sid),
            ("exact (hinglish)", f"mujhe {hinglish} karwana hai", sid),
            ("typo (en)", f"i need {typo(en, rng)} please", sid),
            ("typo (hinglish)", f"{typo(hinglish, rng)} banwana hai", sid),
        ]
        words = en.split()
        if len(words) >= 3:  # another word order: "income certificate duplicate"
            sentences.append(("reordered (en)", f"{' '.join(words[1:])} {words[0]} chahiye", sid))
    return sentences


# ------------------------------------------------------------------------- training
def scale_config(catalogue: Path, out: Path) -> Path:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"].endswith("CatalogueEntityExtractor"):
            component["catalogue"] = str(catalogue)
    config.pop("policies", None)
    path = out / f"config-{catalogue.stem}.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def train(catalogue: Path, out: Path) -> tuple[Path, float]:
    config = scale_config(catalogue, out)
    name = f"nlu-{catalogue.stem}"
    command = [
        str(Path(sys.executable).parent / "rasa"),
        "train",
        "nlu",
        "--config",
        str(config),
        "--nlu",
        str(ROOT / "data" / "nlu"),
        "--out",
        str(out),
        "--fixed-model-name",
        name,
        "--quiet",
    ]
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(out / f"cache-{catalogue.stem}")}
    started = time.monotonic()
    subprocess.run(command, check=True, env=env, cwd=ROOT, capture_output=True)
    return out / f"{name}.tar.gz", time.monotonic() - started


def parse_all(model: Path, sentences: list[tuple[str, str, str]]) -> tuple[list[float], list[str]]:
    """Parse latencies (s) and the service each sentence was read as."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # not a debug line per parsed sentence
    agent = Agent.load(str(model))

    async def run() -> tuple[list[float], list[str]]:
        await agent.parse_message("warm up")
        latencies, found = [], []
        for _, text, _ in sentences:
            started = time.perf_counter()
            parsed = await agent.parse_message(text)
            latencies.append(time.perf_counter() - started)
            services = [e["value"] for e in parsed.get("entities", []) if e["entity"] == "service"]
            found.append(services[0] if services else "")
        return latencies, found

    return asyncio.run(run())


# ------------------------------------------------------------------------- the menu
def choices(page: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a list message, or the reply buttons (a last page of 3 or fewer)."""
    action = page[-1]["interactive"]["action"]
    if "sections" in action:
        return [row for section in action["sections"] for row in section["rows"]]
    return [button["reply"] for button in action["buttons"]]


def menu_paging(raw: dict[str, Any]) -> dict[str, Any]:
    """Lists as the channel sends them: the largest department's services, page by page."""
    from connectors.whatsapp_format import PAGE_PREFIX, more_page_payloads, outbound_payloads

    per_department = Counter(s["department"] for s in raw["services"])
    department, size = per_department.most_common(1)[0]
    buttons = [
        {"title": s["name"]["en"], "payload": f'/apply_service{{"service": "{s["id"]}"}}'}
        for s in raw["services"]
        if s["department"] == department
    ]
    issued: dict[str, str] = {}

    def issue(payload: str) -> str:
        key = f"b{len(issued)}"
        issued[key] = payload
        return key

    message = {"text": "Choose a service", "buttons": buttons}
    pages = [outbound_payloads("919800000001", message, issue, "en")]
    while True:
        more = [r for r in choices(pages[-1]) if issued[r["id"]].startswith(PAGE_PREFIX)]
        if not more:
            break
        pages.append(more_page_payloads("919800000001", issued[more[0]["id"]], issue, "en"))
    rows_per_page = [len(choices(page)) for page in pages]
    largest_payload = max(len(p) for p in issued.values())
    return {
        "department": department,
        "department_services": size,
        "pages": len(pages),
        "max_rows": max(rows_per_page),
        "taps_to_last": len(pages),  # "More…" on every page but the last, then the row
        "largest_issued_payload_bytes": largest_payload,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "catalogue-scale")
    parser.add_argument("--sample", type=int, default=150, help="services named in held-out")
    parser.add_argument("--no-train", action="store_true", help="generate and page only")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from bench.processes import machine, percentile
    from service_catalogue import load

    args.out.mkdir(parents=True, exist_ok=True)
    generated = generate(args.services)
    path = args.out / f"services-{args.services}.yml"
    path.write_text(yaml.safe_dump(generated, allow_unicode=True, sort_keys=False), "utf-8")
    catalogue = load(path)  # the same validation as services.yml
    print(f"# bench.catalogue_scale: {time.strftime('%Y-%m-%d %H:%M %Z')}, {machine()}")
    print(
        f"generated {len(catalogue.services)} services in {len(catalogue.departments)} "
        f"departments: {path} (validated by service_catalogue.load)"
    )

    rows = []
    for name, source in (("real", CATALOGUE), (f"{args.services}", path)):
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
        paging = menu_paging(raw)
        row: dict[str, Any] = {"catalogue": name, "services": len(raw["services"]), **paging}
        if not args.no_train:
            model, seconds = train(source, args.out)
            sentences = held_out(raw, args.sample)
            latencies, found = parse_all(model, sentences)
            by_form: dict[str, list[bool]] = defaultdict(list)
            misses: list[str] = []
            for (form, text, expected), got in zip(sentences, found):
                by_form[form].append(got == expected)
                if got != expected and form.startswith("exact") and len(misses) < 6:
                    misses.append(f"{text!r}: {got or 'no service'} (expected {expected})")
            row.update(
                train_s=seconds,
                parse_p50=percentile(latencies, 50),
                parse_p95=percentile(latencies, 95),
                accuracy={f: sum(v) / len(v) for f, v in sorted(by_form.items())},
                sentences=len(sentences),
                misses=misses,
            )
        rows.append(row)
        print(f"{name}: done ({machine()})", flush=True)

    print(
        f"\n{'catalogue':<11}{'services':>9}{'train s':>9}{'parse p50':>11}{'p95 ms':>8}"
        f"{'menu pages':>12}{'rows max':>10}{'taps to last':>14}"
    )
    for row in rows:
        print(
            f"{row['catalogue']:<11}{row['services']:>9}{row.get('train_s', float('nan')):>9.0f}"
            f"{row.get('parse_p50', float('nan')):>11.1f}{row.get('parse_p95', float('nan')):>8.1f}"
            f"{row['pages']:>12}{row['max_rows']:>10}{row['taps_to_last']:>14}"
        )
    for row in rows:
        print(
            f"\n{row['catalogue']}: menu of the largest department ({row['department']}, "
            f"{row['department_services']} of the {row['services']} services): {row['pages']} "
            f"list messages; the 'More…' row carries {row['largest_issued_payload_bytes']:,} "
            "bytes of issued payload"
        )
        if "accuracy" in row:
            print(f"service entity on {row['sentences']} held-out sentences:")
            for form, share in row["accuracy"].items():
                print(f"  {form:<18}{share:.3f}")
            for miss in row["misses"]:
                print(f"  missed (exact): {miss}")
    print(f"\nmachine at the end: {machine()}")


if __name__ == "__main__":
    main()
