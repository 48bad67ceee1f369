#!/usr/bin/python3
"""validate_share.py FORMATS_DIR (stix|misp) DOC... - offline validation of
Shield's shared documents.

stix: each DOC is a bundle, validated against the official STIX 2.1 JSON
schemas (oasis-open/cti-stix2-json-schemas, Draft 2020-12) with every
schema pre-loaded into a RefResolver store keyed by its $id, so nothing is
fetched from the network; plus the checks the schemas leave out: every
object except marking definitions carries a TLP 2.0 object_marking_ref,
and SCO ids are deterministic UUIDv5 (version nibble 5).
misp: each DOC is {"Event": ...} or {"response": [{"Event": ...}...]} or a
feed manifest.json; events are validated against PyMISP schema-lax.json,
the MISP core format's MUST fields (misp-core-format) and the
category/type table of describeTypes.json; each carries a tlp: tag.
Prints "valid"/"INVALID" per document and "N passed, N failed" last."""
import json, os, sys
import jsonschema

def load_dir(root):
    store = {}
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".json"):
                s = json.load(open(os.path.join(d, f)))
                if "$id" in s:
                    store[s["$id"]] = s
    return store

TLP2 = {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}
SCO = {"url", "domain-name", "ipv4-addr", "ipv6-addr", "email-addr", "file", "email-message"}

VALIDATORS = {}

def validator(root, store, rel):
    if rel not in VALIDATORS:
        p = os.path.join(root, rel)
        s = json.load(open(p)) if os.path.exists(p) else None
        VALIDATORS[rel] = s and jsonschema.Draft202012Validator(
            s, resolver=jsonschema.RefResolver(s["$id"], s, store=store))
    return VALIDATORS[rel]

def check_stix(fmt, doc):
    root = os.path.join(fmt, "stix2-json-schemas", "schemas")
    store = load_dir(root)
    v = validator(root, store, "common/bundle.json")
    # bundle.json dispatches every object through a oneOf over all schemas,
    # which is slow for big bundles: the envelope and the first SAMPLE
    # objects go through it, and every object through its own type schema.
    SAMPLE = 3000
    env = dict(doc)
    env["objects"] = doc.get("objects", [])[:SAMPLE]
    errs = [e.message[:300] for e in v.iter_errors(env)]
    ids = set()
    for o in doc.get("objects", []):
        ids.add(o.get("id"))
        if o.get("type") == "marking-definition":
            continue
        refs = o.get("object_marking_refs", [])
        if not any(r in TLP2 for r in refs):
            errs.append("%s has no TLP 2.0 marking" % o.get("id"))
        if o.get("type") in SCO and o["id"].split("--")[1][14] != "5":
            errs.append("%s is not a UUIDv5 id" % o["id"])
        # each object again against its own schema (bundle dispatch is lax)
        t = o.get("type")
        for sub in ("sdos", "sros", "observables", "common"):
            ov = validator(root, store, "%s/%s.json" % (sub, t))
            if ov:
                for e in ov.iter_errors(o):
                    errs.append("%s: %s" % (o.get("id"), e.message[:200]))
                break
    for o in doc.get("objects", []):
        for k in ("source_ref", "target_ref", "from_ref", "created_by_ref"):
            if k in o and o[k] not in ids and not o[k].startswith("identity--b3bca3c2"):
                errs.append("%s: %s %s not in bundle" % (o["id"], k, o[k]))
    return errs

EVENT_MUST = ["uuid", "info", "published", "date", "timestamp", "publish_timestamp",
              "distribution", "threat_level_id", "analysis", "Orgc"]
ATTR_MUST = ["uuid", "type", "category", "value", "to_ids", "timestamp", "distribution"]

def check_misp(fmt, doc):
    d = os.path.join(fmt, "pymisp-data")
    lax = json.load(open(os.path.join(d, "schema-lax.json")))
    types = json.load(open(os.path.join(d, "describeTypes.json")))["result"]
    cat = types["category_type_mappings"]
    if "response" in doc:
        events = doc["response"]
    elif "Event" in doc:
        events = [doc]
    else:  # a feed manifest
        errs = []
        for uuid, m in doc.items():
            for k in ("info", "date", "timestamp", "Orgc", "Tag", "analysis", "threat_level_id"):
                if k not in m:
                    errs.append("manifest %s: %s missing" % (uuid, k))
        return errs
    errs = []
    for w in events:
        errs += ["schema-lax: " + e.message[:200]
                 for e in jsonschema.Draft4Validator(lax).iter_errors(w)]
        ev = w.get("Event", {})
        for k in EVENT_MUST:
            if k not in ev:
                errs.append("Event.%s missing (MUST per misp-core-format)" % k)
        for k in ("timestamp", "publish_timestamp", "distribution", "threat_level_id", "analysis"):
            if k in ev and not isinstance(ev[k], str):
                errs.append("Event.%s must be a string" % k)
        if not any(t.get("name", "").startswith("tlp:") for t in ev.get("Tag", [])):
            errs.append("event without a tlp tag")
        attrs = list(ev.get("Attribute", []))
        for o in ev.get("Object", []):
            for k in ("uuid", "name", "template_uuid", "Attribute"):
                if k not in o:
                    errs.append("Object.%s missing" % k)
            for a in o.get("Attribute", []):
                if "object_relation" not in a:
                    errs.append("object attribute without object_relation")
            attrs += o.get("Attribute", [])
        for a in attrs:
            for k in ATTR_MUST:
                if k not in a:
                    errs.append("Attribute.%s missing" % k)
            if a.get("type") not in cat.get(a.get("category"), []):
                errs.append("type %s not allowed in category %s" % (a.get("type"), a.get("category")))
            if not isinstance(a.get("to_ids"), bool):
                errs.append("Attribute.to_ids must be a boolean")
    return errs

fmt, kind = sys.argv[1], sys.argv[2]
p = f = 0
for path in sys.argv[3:]:
    doc = json.load(open(path))
    errs = check_stix(fmt, doc) if kind == "stix" else check_misp(fmt, doc)
    if errs:
        f += 1
        print("INVALID %s" % path)
        for e in sorted(set(errs))[:15]:
            print("   ", e)
    else:
        p += 1
        print("valid   %s" % path)
print("%d passed, %d failed" % (p, f))
sys.exit(1 if f else 0)
