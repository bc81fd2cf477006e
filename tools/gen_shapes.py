#!/usr/bin/python3
"""Generates plumb's shape tables and JSON Schemas from the AWS service models.

Inputs: the SageMaker and Application Auto Scaling models in ../shared/aws-models (newest), the
CloudWatch and SNS models of Debian's python3-botocore. Outputs (committed; `--check` fails when
they are stale):

  pkg/model/shapes_gen.c   C tables read by the validator, the canonicaliser and the serialiser
  schema/<kind>.json       JSON Schema (draft 2020-12) per kind, for editors (yaml-language-server)
  schema/plumb.json        one schema accepting any plumb document, dispatching on `kind`

The spec of each kind is the input shape of the AWS call that creates it, less the members plumb
fills itself (names, tags, resource ids), plus plumb's own layer defined below in OVERLAY:
references (`modelRef`, ...), shorthand expressions, durations, Defaults. This mirrors how the AWS
SDKs and ACK build their types from the same models; the rejected alternative, hand-writing the
~300 members, would drift the day AWS adds a field.

Run with Debian's interpreter (/usr/bin/python3): `make gen`.
"""
import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(REPO), "shared", "aws-models")


def botocore_data():
    import botocore  # Debian's, for CloudWatch and SNS
    return os.path.join(os.path.dirname(botocore.__file__), "data")


def load_models():
    bd = botocore_data()
    paths = {
        "sm": os.path.join(SHARED, "sagemaker", "2017-07-24", "service-2.json"),
        "aas": os.path.join(SHARED, "application-autoscaling", "2016-02-06", "service-2.json"),
        "cw": os.path.join(bd, "cloudwatch", "2010-08-01", "service-2.json"),
        "sns": os.path.join(bd, "sns", "2010-03-31", "service-2.json"),
    }
    out = {}
    for k, p in paths.items():
        with open(p) as f:
            out[k] = json.load(f)["shapes"]
    return out


def lower_camel(name):
    """OKActions -> okActions, KmsKeyId -> kmsKeyId, RoleARN -> roleARN, S3Uri -> s3Uri."""
    m = re.match(r"^([A-Z]+)([A-Z][a-z].*)$", name)
    if m and len(m.group(1)) > 1:
        return m.group(1).lower() + m.group(2)
    return name[0].lower() + name[1:]


DURATION_RE = re.compile(r"(Seconds|Cooldown)$|^Period$")

# ------------------------------------------------------------------------------------------
# plumb's layer over the AWS shapes.

NAME_SM = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
PLUMB_NAME = r"[a-zA-Z0-9]([a-zA-Z0-9._-]{0,126}[a-zA-Z0-9])?"
REGION = r"[a-z]{2}(-[a-z]+)+-[0-9]+"
DURATION_PATTERN = r"[0-9]+|([0-9]+h)?([0-9]+m)?([0-9]+s)?"

# AWS defaults: members whose absence means this value, so a manifest that spells them out
# hashes and diffs the same as one that does not. Keyed by (service, shape, member).
AWS_DEFAULTS = {
    ("sm", "ProductionVariant", "InitialVariantWeight"): 1.0,
    ("sm", "DataCaptureConfig", "EnableCapture"): True,
    ("sm", "CreateModelInput", "EnableNetworkIsolation"): False,
    ("sm", "CreateEndpointConfigInput", "EnableNetworkIsolation"): False,
    ("sm", "ContainerDefinition", "Mode"): "SingleModel",
    ("sm", "BlueGreenUpdatePolicy", "TerminationWaitInSeconds"): 0,
    ("sm", "ProductionVariant", "EnableSSMAccess"): False,
    ("aas", "TargetTrackingScalingPolicyConfiguration", "DisableScaleIn"): False,
    ("aas", "StepScalingPolicyConfiguration", "MetricAggregationType"): "Average",
    ("aas", "SuspendedState", "DynamicScalingInSuspended"): False,
    ("aas", "SuspendedState", "DynamicScalingOutSuspended"): False,
    ("aas", "SuspendedState", "ScheduledScalingSuspended"): False,
    ("cw", "PutMetricAlarmInput", "ActionsEnabled"): True,
    ("cw", "PutMetricAlarmInput", "TreatMissingData"): "missing",
}

SNS_TOPIC_ATTRIBUTES = [
    "ArchivePolicy", "ContentBasedDeduplication", "DeliveryPolicy", "DisplayName",
    "FifoThroughputScope", "FifoTopic", "KmsMasterKeyId", "Policy", "SignatureVersion",
    "TracingConfig",
]

KINDS = [
    # kind enum suffix, manifest name, service, root input shape, members plumb fills
    ("MODEL", "Model", "sm", "CreateModelInput", ["ModelName", "Tags"]),
    ("ENDPOINT_CONFIG", "EndpointConfig", "sm", "CreateEndpointConfigInput",
     ["EndpointConfigName", "Tags"]),
    ("ENDPOINT", "Endpoint", "sm", "CreateEndpointInput", ["EndpointName", "Tags"]),
    ("SCALABLE_TARGET", "ScalableTarget", "aas", "RegisterScalableTargetRequest",
     ["ServiceNamespace", "Tags"]),
    ("SCALING_POLICY", "ScalingPolicy", "aas", "PutScalingPolicyRequest",
     ["PolicyName", "ServiceNamespace", "ResourceId", "ScalableDimension"]),
    ("ALARM", "Alarm", "cw", "PutMetricAlarmInput", ["AlarmName", "Tags"]),
    ("TOPIC", "Topic", "sns", "CreateTopicInput", ["Name", "Tags"]),
    ("DEFAULTS", "Defaults", None, None, []),
]


def prim(name, typ, **kw):
    d = {"id": "plumb." + name, "name": "plumb." + name, "type": typ}
    d.update(kw)
    return d


class Builder:
    """Turns model shapes into the generator's own shape records, applying the overlay."""

    def __init__(self, models):
        self.models = models
        self.shapes = {}      # id -> record
        self.order = []       # ids in emission order

    def add(self, rec):
        if rec["id"] not in self.shapes:
            self.shapes[rec["id"]] = rec
            self.order.append(rec["id"])
        return rec["id"]

    def aws(self, svc, name, overrides=None):
        """Record for model shape `name` of service `svc`; overrides(svc, name, rec) may edit
        a copy, which then gets its own id."""
        sid = "%s.%s" % (svc, name)
        if sid in self.shapes:
            return sid
        s = self.models[svc][name]
        t = s["type"]
        rec = {"id": sid, "name": name, "type": t, "svc": svc}
        for k in ("min", "max", "pattern", "enum"):
            if k in s:
                rec[k] = s[k]
        if t == "structure":
            self.shapes[sid] = rec  # placeholder against recursion
            self.order.append(sid)
            req = set(s.get("required", []))
            rec["members"] = []
            for mname, m in s["members"].items():
                mid = self.aws(svc, m["shape"])
                rec["members"].append({
                    "name": lower_camel(mname), "aws": mname, "shape": mid,
                    "required": mname in req,
                    "duration": bool(DURATION_RE.search(mname)) and
                    self.shapes[mid]["type"] in ("integer", "long"),
                    "default": AWS_DEFAULTS.get((svc, name, mname)),
                })
            return sid
        if t == "list":
            rec["item"] = self.aws(svc, s["member"]["shape"])
        elif t == "map":
            rec["key"] = self.aws(svc, s["key"]["shape"])
            rec["item"] = self.aws(svc, s["value"]["shape"])
        return self.add(rec)

    def derive(self, sid, new_id, edit):
        """A copy of struct `sid` under `new_id`, its members passed through edit(list)."""
        base = self.shapes[sid]
        rec = dict(base)
        rec["id"] = new_id
        rec["members"] = edit([dict(m) for m in base["members"]])
        return self.add(rec)

    def rewrite(self, sid, path, fn, suffix="+r"):
        """Rewrites the member reached from sid by `path` (AWS member names; lists are walked
        through) to the shape fn(old id). AWS records on the way are copied (id + suffix) so
        other users of the same model shape are unaffected; plumb's own are edited in place."""
        rec = self.shapes[sid]
        if rec["type"] == "list":
            inner = self.rewrite(rec["item"], path, fn, suffix)
            return self.add(dict(rec, id=rec["id"] + suffix, item=inner))
        if not path:
            return fn(sid)
        head, rest = path[0], path[1:]

        def edit(members):
            for m in members:
                if m["aws"] == head:
                    m["shape"] = self.rewrite(m["shape"], rest, fn, suffix)
            return members
        if sid.startswith("plumb."):
            rec["members"] = edit(rec["members"])
            return sid
        return self.derive(sid, rec["id"] + suffix, edit)


def plumb_member(name, shape, required=False, ref=None, fills=None, doc=None, default=None):
    return {"name": name, "aws": None, "shape": shape, "required": required, "plumb": True,
            "ref": ref, "fills": fills, "duration": False, "default": default}


def build(models):
    b = Builder(models)
    P = {}  # plumb primitive shapes
    P["name_sm"] = b.add(prim("SageMakerName", "string", min=1, max=63, pattern=NAME_SM))
    P["name"] = b.add(prim("Name", "string", min=1, max=128, pattern=PLUMB_NAME))
    P["alarm_name"] = b.add(prim("AlarmName", "string", min=1, max=255,
                                 pattern=r"[^\x00-\x1F\x7F]+"))
    P["topic_name"] = b.add(prim("TopicName", "string", min=1, max=256,
                                 pattern=r"[A-Za-z0-9_-]+(\.fifo)?"))
    P["policy_ref"] = b.add(prim("PolicyRef", "string", min=3, max=256,
                                 pattern=PLUMB_NAME + "/" + PLUMB_NAME))
    P["region"] = b.add(prim("Region", "string", min=1, max=32, pattern=REGION))
    P["account"] = b.add(prim("AccountId", "string", min=12, max=12, pattern=r"[0-9]{12}"))
    P["string"] = b.add(prim("String", "string", min=1, max=1024))
    P["prefix"] = b.add(prim("NamePrefix", "string", min=0, max=32,
                             pattern=r"([a-zA-Z0-9][a-zA-Z0-9-]*)?"))
    P["bool"] = b.add(prim("Boolean", "boolean"))
    P["expression"] = b.add(prim("Expression", "string", min=1, max=256))
    P["backlog"] = b.add(prim("BacklogPerInstance", "double", vmin=0.0, vmin_exclusive=True))
    P["tag_key"] = b.aws("sm", "TagKey")
    P["tag_value"] = b.aws("sm", "TagValue")
    P["tags"] = b.add({"id": "plumb.Tags", "name": "plumb.Tags", "type": "map", "max": 50,
                       "key": P["tag_key"], "item": P["tag_value"]})
    P["role_arn"] = b.aws("sm", "RoleArn")
    P["variant"] = b.aws("sm", "VariantName")
    P["action"] = b.add({"id": "plumb.Action", "name": "plumb.Action", "type": "action"})
    P["annotations"] = b.add({
        "id": "plumb.Annotations", "name": "plumb.Annotations", "type": "map", "max": 64,
        "key": b.add(prim("AnnotationKey", "string", min=1, max=253,
                          pattern=r"[a-zA-Z0-9]([a-zA-Z0-9._/-]*[a-zA-Z0-9])?")),
        "item": b.add(prim("AnnotationValue", "string", min=0, max=4096))})
    # New instance types appear monthly; a stale enum would refuse them, so match the family
    # shape and let SageMaker decide (reference §6.3).
    it = b.shapes[b.aws("sm", "ProductionVariantInstanceType")]
    it.pop("enum", None)
    it["pattern"] = r"ml\.[a-z0-9-]+\.[a-z0-9]+"

    kinds = {}

    def root(kind_name, svc, shape, drop, edit=None, ident=None):
        sid = b.aws(svc, shape)

        def ed(members):
            ms = [m for m in members if m["aws"] not in drop]
            return edit(ms) if edit else ms
        return b.derive(sid, ident or "plumb.%sSpec" % kind_name, ed)

    # Model: CreateModel less name and tags.
    kinds["MODEL"] = root("Model", "sm", "CreateModelInput", ["ModelName", "Tags"])

    # EndpointConfig: variants may name their model by manifest name; notification topics by
    # manifest name.
    def variant_with_ref(sid):
        def ed(members):
            out = []
            for m in members:
                out.append(m)
                if m["aws"] == "ModelName":
                    out.append(plumb_member("modelRef", P["name_sm"], ref="MODEL",
                                            fills="ModelName"))
            return out
        return b.derive(sid, "plumb.ProductionVariant", ed)

    def notif_with_refs(sid):
        def ed(members):
            out = []
            for m in members:
                out.append(m)
                if m["aws"] == "SuccessTopic":
                    out.append(plumb_member("successTopicRef", P["topic_name"], ref="TOPIC",
                                            fills="SuccessTopic"))
                if m["aws"] == "ErrorTopic":
                    out.append(plumb_member("errorTopicRef", P["topic_name"], ref="TOPIC",
                                            fills="ErrorTopic"))
            return out
        return b.derive(sid, "plumb.AsyncInferenceNotificationConfig", ed)

    ec = root("EndpointConfig", "sm", "CreateEndpointConfigInput", ["EndpointConfigName", "Tags"])
    b.rewrite(ec, ["ProductionVariants"], variant_with_ref)
    b.rewrite(ec, ["ShadowProductionVariants"], lambda s: "plumb.ProductionVariant")
    b.rewrite(ec, ["AsyncInferenceConfig", "OutputConfig", "NotificationConfig"], notif_with_refs)
    kinds["ENDPOINT_CONFIG"] = ec

    # Endpoint: the config by manifest name; rollback alarms by manifest name.
    def ep_edit(members):
        out = []
        for m in members:
            if m["aws"] == "EndpointConfigName":
                m["required"] = False
            out.append(m)
            if m["aws"] == "EndpointConfigName":
                out.append(plumb_member("endpointConfigRef", P["name_sm"], ref="ENDPOINT_CONFIG",
                                        fills="EndpointConfigName"))
        return out

    def alarm_item_with_ref(sid):
        def ed(members):
            return members + [plumb_member("alarmRef", P["alarm_name"], ref="ALARM",
                                           fills="AlarmName")]
        return b.derive(sid, "plumb.RollbackAlarm", ed)
    ep = root("Endpoint", "sm", "CreateEndpointInput", ["EndpointName", "Tags"], ep_edit)
    b.rewrite(ep, ["DeploymentConfig", "AutoRollbackConfiguration", "Alarms"],
              alarm_item_with_ref)
    kinds["ENDPOINT"] = ep

    # ScalingPolicy (internal kind) and the policy items of a ScalableTarget.
    pol_drop = ["PolicyName", "ServiceNamespace", "ResourceId", "ScalableDimension",
                "PredictiveScalingPolicyConfiguration"]
    kinds["SCALING_POLICY"] = root("ScalingPolicy", "aas", "PutScalingPolicyRequest", pol_drop)
    cooldown = b.aws("aas", "Cooldown")

    def pol_item_edit(members):
        dur = dict(plumb_member("scaleInCooldown", cooldown), duration=True)
        dur2 = dict(plumb_member("scaleOutCooldown", cooldown), duration=True)
        return ([plumb_member("name", P["name"], required=True),
                 plumb_member("expression", P["expression"])] + members +
                [dur, dur2, plumb_member("disableScaleIn", P["bool"])])
    b.derive(kinds["SCALING_POLICY"], "plumb.Policy", pol_item_edit)
    policy_list = b.add({"id": "plumb.PolicyList", "name": "plumb.PolicyList", "type": "list",
                         "max": 50, "item": "plumb.Policy"})
    stz = b.add({"id": "plumb.ScaleToZero", "name": "plumb.ScaleToZero", "type": "structure",
                 "members": [plumb_member("backlogPerInstance", P["backlog"], required=True)]})

    def st_edit(members):
        out = []
        for m in members:
            if m["aws"] == "ResourceId":
                m["required"] = False
                out.append(m)
                out.append(plumb_member("endpointRef", P["name_sm"], ref="ENDPOINT",
                                        fills="ResourceId"))
                out.append(plumb_member("variantName", P["variant"]))
                continue
            if m["aws"] == "ScalableDimension":
                m["required"] = False
                m["default"] = "sagemaker:variant:DesiredInstanceCount"
            if m["aws"] == "MaxCapacity":
                m["required"] = True
            out.append(m)
        out.append(plumb_member("policies", policy_list))
        out.append(plumb_member("scaleToZero", stz))
        return out
    kinds["SCALABLE_TARGET"] = root("ScalableTarget", "aas", "RegisterScalableTargetRequest",
                                    ["ServiceNamespace", "Tags"], st_edit)

    # Alarm: actions may be references; dimensions may come from an endpoint reference.
    def alarm_edit(members):
        out = []
        for m in members:
            if m["aws"] in ("EvaluationPeriods", "ComparisonOperator"):
                m["required"] = False  # filled by `expression` or required by hand
            out.append(m)
        return [plumb_member("expression", P["expression"]),
                plumb_member("endpointRef", P["name_sm"], ref="ENDPOINT", fills="Dimensions"),
                plumb_member("variantName", P["variant"])] + out
    al = root("Alarm", "cw", "PutMetricAlarmInput", ["AlarmName", "Tags"], alarm_edit)
    action_list = b.add({"id": "plumb.ActionList", "name": "plumb.ActionList", "type": "list",
                         "max": 5, "item": P["action"]})

    def al_actions(members):
        for m in members:
            if m["aws"] in ("OKActions", "AlarmActions", "InsufficientDataActions"):
                m["shape"] = action_list
        return members
    b.shapes[al]["members"] = al_actions(b.shapes[al]["members"])
    kinds["ALARM"] = al

    # Topic: attributes by their AWS names, from the documented set.
    attr_key = b.add(prim("TopicAttributeName", "string", enum=SNS_TOPIC_ATTRIBUTES))
    attr_val = b.add(prim("TopicAttributeValue", "string", max=30720))
    attrs = b.add({"id": "plumb.TopicAttributes", "name": "plumb.TopicAttributes", "type": "map",
                   "key": attr_key, "item": attr_val})

    def topic_edit(members):
        for m in members:
            if m["aws"] == "Attributes":
                m["shape"] = attrs
            if m["aws"] == "DataProtectionPolicy":
                m["shape"] = attr_val
        return members
    kinds["TOPIC"] = root("Topic", "sns", "CreateTopicInput", ["Name", "Tags"], topic_edit)

    # Defaults: plumb's own.
    kinds["DEFAULTS"] = b.add({
        "id": "plumb.DefaultsSpec", "name": "plumb.DefaultsSpec", "type": "structure",
        "members": [
            plumb_member("region", P["region"]),
            plumb_member("accountId", P["account"]),
            plumb_member("profile", P["string"]),
            plumb_member("roleArn", P["role_arn"]),
            plumb_member("owner", P["name"]),
            plumb_member("namePrefix", P["prefix"]),
            plumb_member("prune", P["bool"]),
            plumb_member("tags", P["tags"]),
        ]})

    # metadata, per kind (the name's shape differs)
    meta_name = {"MODEL": P["name_sm"], "ENDPOINT_CONFIG": P["name_sm"], "ENDPOINT": P["name_sm"],
                 "SCALABLE_TARGET": P["name"], "SCALING_POLICY": P["name"],
                 "ALARM": P["alarm_name"], "TOPIC": P["topic_name"], "DEFAULTS": P["name"]}
    metas = {}
    for k, _, _, _, _ in KINDS:
        metas[k] = b.add({
            "id": "plumb.Metadata." + k, "name": "plumb.Metadata", "type": "structure",
            "members": [plumb_member("name", meta_name[k], required=True),
                        plumb_member("region", P["region"]),
                        plumb_member("tags", P["tags"]),
                        plumb_member("annotations", P["annotations"])]})
    return b, kinds, metas


# ------------------------------------------------------------------------------------------
# Patterns: the models use Java regular expressions. Rewrite into PCRE2 and ECMAScript (u flag).

def java_to_pcre(p):
    p = p.replace(r"\uD800\uDC00-\uDBFF\uDFFF", r"\x{10000}-\x{10FFFF}")
    p = re.sub(r"\\u([0-9A-Fa-f]{4})", r"\\x{\1}", p)
    p = p.replace(r"\p{Print}", r"[^\x00-\x1F\x7F]")
    return p


JS_SYNTAX = set("^$\\.*+?()[]{}|/-")


def java_to_js(p):
    p = p.replace(r"\uD800\uDC00-\uDBFF\uDFFF", r"\u{10000}-\u{10FFFF}")
    p = p.replace(r"\p{Print}", r"[^\x00-\x1F\x7F]")
    out, i = [], 0
    while i < len(p):
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            n = p[i + 1]
            if not n.isalnum() and n not in JS_SYNTAX:
                out.append(n)  # identity escapes of non-syntax characters are errors in u mode
            else:
                out.append(c + n)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


# ------------------------------------------------------------------------------------------
# C emission

def c_str(s):
    if s is None:
        return "NULL"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def c_ident(sid):
    return "s_" + re.sub(r"[^A-Za-z0-9]", "_", sid)


C_TYPES = {"structure": "PLUMB_T_STRUCT", "list": "PLUMB_T_LIST", "map": "PLUMB_T_MAP",
           "string": "PLUMB_T_STRING", "integer": "PLUMB_T_INTEGER", "long": "PLUMB_T_INTEGER",
           "float": "PLUMB_T_DOUBLE", "double": "PLUMB_T_DOUBLE", "boolean": "PLUMB_T_BOOLEAN",
           "timestamp": "PLUMB_T_TIMESTAMP", "action": "PLUMB_T_ACTION"}

KIND_ORDER = [k[0] for k in KINDS]


def reachable(b, roots):
    seen, out = set(), []

    def visit(sid):
        if sid in seen:
            return
        seen.add(sid)
        rec = b.shapes[sid]
        out.append(sid)
        for m in rec.get("members", []):
            visit(m["shape"])
        for k in ("item", "key"):
            if k in rec:
                visit(rec[k])
    for r in roots:
        visit(r)
    return out


def emit_c(b, kinds, metas):
    roots = [kinds[k] for k in KIND_ORDER] + [metas[k] for k in KIND_ORDER] + ["plumb.Policy"]
    ids = reachable(b, roots)
    patterns = []
    pindex = {}
    for sid in ids:
        p = b.shapes[sid].get("pattern")
        if p is not None and p not in pindex:
            pindex[p] = len(patterns)
            patterns.append(p)
    L = []
    w = L.append
    w("/* Generated by tools/gen_shapes.py from the AWS service models. Do not edit. */")
    w('#include "model/model.h"')
    w("")
    w("const char *const plumb_patterns[] = {")
    for p in patterns:
        w("\t%s," % c_str(java_to_pcre(p)))
    w("};")
    w("const size_t plumb_n_patterns = %d;" % len(patterns))
    w("")
    for sid in ids:
        w("static const struct plumb_shape %s;" % c_ident(sid))
    w("")
    for sid in ids:
        rec = b.shapes[sid]
        cid = c_ident(sid)
        if rec.get("enum"):
            w("static const char *const %s_enum[] = { %s, NULL };" %
              (cid, ", ".join(c_str(e) for e in rec["enum"])))
        if rec["type"] == "structure":
            w("static const struct plumb_member %s_members[] = {" % cid)
            for m in rec["members"]:
                flags = []
                if m["required"]:
                    flags.append("PLUMB_M_REQUIRED")
                if m.get("duration"):
                    flags.append("PLUMB_M_DURATION")
                if m.get("plumb"):
                    flags.append("PLUMB_M_PLUMB")
                dflt = None if m.get("default") is None else json.dumps(m["default"])
                ref = ("PLUMB_KIND_" + m["ref"]) if m.get("ref") else "-1"
                w("\t{ %s, %s, &%s, %s, %s, %s, %s }," % (
                    c_str(m["name"]), c_str(m["aws"]), c_ident(m["shape"]),
                    " | ".join(flags) or "0", c_str(dflt), ref, c_str(m.get("fills"))))
            w("};")
    w("")
    for sid in ids:
        rec = b.shapes[sid]
        cid = c_ident(sid)
        t = rec["type"]
        num = t in ("integer", "long", "float", "double")
        vmin = rec.get("vmin", rec.get("min") if num else None)
        vmax = rec.get("vmax", rec.get("max") if num else None)
        lmin = -1 if num or rec.get("min") is None else rec["min"]
        lmax = -1 if num or rec.get("max") is None else rec["max"]
        fields = [
            ".name = %s" % c_str(rec["name"]),
            ".type = %s" % C_TYPES[t],
            ".min = %d" % lmin, ".max = %d" % lmax,
            ".has_vmin = %s" % ("true" if vmin is not None else "false"),
            ".has_vmax = %s" % ("true" if vmax is not None else "false"),
            ".vmin = %r" % float(vmin if vmin is not None else 0),
            ".vmax = %r" % float(vmax if vmax is not None else 0),
            ".vmin_exclusive = %s" % ("true" if rec.get("vmin_exclusive") else "false"),
            ".pattern = %d" % (pindex[rec["pattern"]] if "pattern" in rec else -1),
            ".enums = %s" % ("%s_enum" % cid if rec.get("enum") else "NULL"),
        ]
        if t == "structure":
            fields.append(".members = %s_members" % cid)
            fields.append(".n_members = %d" % len(rec["members"]))
        if "item" in rec:
            fields.append(".item = &%s" % c_ident(rec["item"]))
        if "key" in rec:
            fields.append(".key = &%s" % c_ident(rec["key"]))
        w("static const struct plumb_shape %s = {\n\t%s,\n};" % (cid, ",\n\t".join(fields)))
    w("")
    w("const struct plumb_shape *const plumb_gen_spec_shapes[PLUMB_KIND__COUNT] = {")
    for k in KIND_ORDER:
        w("\t[PLUMB_KIND_%s] = &%s," % (k, c_ident(kinds[k])))
    w("};")
    w("const struct plumb_shape *const plumb_gen_meta_shapes[PLUMB_KIND__COUNT] = {")
    for k in KIND_ORDER:
        w("\t[PLUMB_KIND_%s] = &%s," % (k, c_ident(metas[k])))
    w("};")
    w("const struct plumb_shape plumb_gen_policy_shape = {")
    w("\t.name = \"plumb.Policy\", .type = PLUMB_T_STRUCT, .min = -1, .max = -1, .pattern = -1,")
    w("\t.members = %s_members, .n_members = %d," % (c_ident("plumb.Policy"),
                                                    len(b.shapes["plumb.Policy"]["members"])))
    w("};")
    return "\n".join(L) + "\n"


# ------------------------------------------------------------------------------------------
# JSON Schema emission

def def_name(sid):
    return re.sub(r"[^A-Za-z0-9_.]", "_", sid)


def schema_for(b, sid, defs):
    rec = b.shapes[sid]
    name = def_name(sid)
    if name in defs:
        return {"$ref": "#/$defs/" + name}
    t = rec["type"]
    defs[name] = {}  # reserve against recursion
    s = {}
    if t == "structure":
        s["type"] = "object"
        props = {}
        req = []
        for m in rec["members"]:
            ms = schema_for(b, m["shape"], defs)
            if m.get("duration"):
                ms = {"anyOf": [ms, {"type": "string", "minLength": 1,
                                     "pattern": "^(?:%s)$" % DURATION_PATTERN}]}
            if m.get("default") is not None:
                ms = dict(ms, default=m["default"])
            props[m["name"]] = ms
            if m["required"]:
                req.append(m["name"])
        s["properties"] = props
        s["additionalProperties"] = False
        if req:
            s["required"] = req
        # a reference and the member it stands in for are exclusive
        excl = [{"required": [m["name"], next(x["name"] for x in rec["members"]
                                             if x["aws"] == m["fills"])]}
                for m in rec["members"] if m.get("fills") and
                any(x["aws"] == m["fills"] for x in rec["members"])]
        if excl:
            s["not"] = {"anyOf": excl}
    elif t == "list":
        s["type"] = "array"
        s["items"] = schema_for(b, rec["item"], defs)
        if rec.get("min") is not None:
            s["minItems"] = rec["min"]
        if rec.get("max") is not None:
            s["maxItems"] = rec["max"]
    elif t == "map":
        s["type"] = "object"
        s["additionalProperties"] = schema_for(b, rec["item"], defs)
        s["propertyNames"] = schema_for(b, rec["key"], defs)
        if rec.get("min") is not None:
            s["minProperties"] = rec["min"]
        if rec.get("max") is not None:
            s["maxProperties"] = rec["max"]
    elif t == "string":
        s["type"] = "string"
        if rec.get("enum"):
            s["enum"] = rec["enum"]
        if rec.get("min") is not None:
            s["minLength"] = rec["min"]
        if rec.get("max") is not None:
            s["maxLength"] = rec["max"]
        if rec.get("pattern") is not None:
            s["pattern"] = "^(?:%s)$" % java_to_js(rec["pattern"])
    elif t in ("integer", "long", "float", "double"):
        s["type"] = "integer" if t in ("integer", "long") else "number"
        lo = rec.get("vmin", rec.get("min"))
        hi = rec.get("vmax", rec.get("max"))
        if lo is not None:
            s["exclusiveMinimum" if rec.get("vmin_exclusive") else "minimum"] = lo
        if hi is not None:
            s["maximum"] = hi
    elif t == "boolean":
        s["type"] = "boolean"
    elif t == "timestamp":
        s["type"] = "string"
    elif t == "action":
        s["anyOf"] = [
            {"type": "string", "minLength": 1, "maxLength": 1024},
            {"type": "object", "properties": {"topicRef": {"$ref": "#/$defs/plumb.TopicName"}},
             "required": ["topicRef"], "additionalProperties": False},
            {"type": "object", "properties": {"policyRef": {"$ref": "#/$defs/plumb.PolicyRef"}},
             "required": ["policyRef"], "additionalProperties": False},
        ]
        schema_for(b, "plumb.TopicName", defs)
        schema_for(b, "plumb.PolicyRef", defs)
    defs[name] = s
    return {"$ref": "#/$defs/" + name}


# Cross-member rules the C validator checks by hand, stated again for editors.
EXTRA = {
    "SCALABLE_TARGET": {
        "allOf": [
            {"anyOf": [{"required": ["resourceId"]}, {"required": ["endpointRef"]}]},
            {"not": {"required": ["resourceId", "endpointRef"]}},
            {"anyOf": [{"required": ["minCapacity"]}, {"required": ["scaleToZero"]}]},
            {"if": {"required": ["endpointRef"]}, "then": {"required": ["variantName"]}},
        ]
    },
    "ALARM": {
        "allOf": [
            {"not": {"required": ["expression", "metricName"]}},
            {"not": {"required": ["expression", "metrics"]}},
            {"if": {"required": ["variantName"]}, "then": {"required": ["endpointRef"]}},
            {"not": {"required": ["endpointRef", "dimensions"]}},
            {"anyOf": [{"required": ["expression"]},
                       {"required": ["evaluationPeriods", "comparisonOperator"]}]},
        ]
    },
    "ENDPOINT": {"anyOf": [{"required": ["endpointConfigName"]},
                           {"required": ["endpointConfigRef"]}]},
    "POLICY": {
        "anyOf": [
            {"required": ["expression"],
             "not": {"anyOf": [{"required": ["policyType"]},
                               {"required": ["targetTrackingScalingPolicyConfiguration"]},
                               {"required": ["stepScalingPolicyConfiguration"]}]}},
            {"required": ["policyType"],
             "not": {"anyOf": [{"required": ["expression"]}, {"required": ["scaleInCooldown"]},
                               {"required": ["scaleOutCooldown"]},
                               {"required": ["disableScaleIn"]}]}},
        ]
    },
}


def emit_schemas(b, kinds, metas):
    out = {}
    all_kinds = []
    for k, manifest_name, _, _, _ in KINDS:
        if k == "SCALING_POLICY":
            continue
        defs = {}
        spec = schema_for(b, kinds[k], defs)
        meta = schema_for(b, metas[k], defs)
        if k == "SCALABLE_TARGET":
            pol = defs["plumb.Policy"]
            defs["plumb.Policy"] = dict(pol, **EXTRA["POLICY"])
        spec_def = def_name(kinds[k])
        if k in EXTRA:
            defs[spec_def] = dict(defs[spec_def], **EXTRA[k])
        doc = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://plumb.dev/schema/%s.json" % manifest_name,
            "title": "plumb %s" % manifest_name,
            "type": "object",
            "properties": {
                "apiVersion": {"const": "plumb/v1"},
                "kind": {"const": manifest_name},
                "metadata": meta,
                "spec": spec,
            },
            "required": ["apiVersion", "kind", "metadata"] +
                        ([] if k == "DEFAULTS" else ["spec"]),
            "additionalProperties": False,
            "$defs": dict(sorted(defs.items())),
        }
        out["%s.json" % manifest_name] = doc
        all_kinds.append(manifest_name)
    out["plumb.json"] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://plumb.dev/schema/plumb.json",
        "title": "plumb manifest document",
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": all_kinds}},
        "allOf": [{"if": {"properties": {"kind": {"const": n}}},
                   "then": {"$ref": "%s.json" % n}} for n in all_kinds],
    }
    return out


def describe(b, sid):
    rec = b.shapes[sid]
    t = rec["type"]
    parts = []
    if t == "structure":
        parts.append("mapping")
    elif t == "list":
        parts.append("list")
    elif t == "map":
        parts.append("map of %s" % b.shapes[rec["item"]]["type"])
    elif t == "action":
        parts.append("ARN, `{topicRef}` or `{policyRef}`")
    else:
        parts.append({"long": "integer", "float": "number", "double": "number"}.get(t, t))
    num = t in ("integer", "long", "float", "double")
    lo, hi = rec.get("vmin", rec.get("min")), rec.get("vmax", rec.get("max"))
    if lo is not None or hi is not None:
        unit = "" if num else (" items" if t in ("list", "map") else " chars")
        parts.append("%s..%s%s" % ("" if lo is None else lo, "" if hi is None else hi, unit))
    if rec.get("enum"):
        e = rec["enum"]
        parts.append("one of " + ", ".join("`%s`" % x for x in e[:8]) + (", ..." if len(e) > 8 else ""))
    if rec.get("pattern") and t == "string":
        parts.append("pattern `%s`" % rec["pattern"].replace("|", "\\|"))
    return "; ".join(parts)


def emit_fields_doc(b, kinds, metas):
    """docs/manifest-fields.md: every field of every kind, generated with the tables."""
    out = ["# Manifest fields", "",
           "Generated by `tools/gen_shapes.py` from the AWS service models (`make gen`); do not edit.",
           "Every field of every kind: path, type and AWS constraints, whether it is required, the",
           "AWS default plumb treats as absent, and the AWS member it is sent as (blank for plumb's",
           "own fields). `[]` marks a list item, `{}` a map value.", ""]
    for k, manifest_name, _, _, _ in KINDS:
        if k == "SCALING_POLICY":
            continue
        out += ["## %s" % manifest_name, "",
                "| field | type | required | default | AWS member |", "|---|---|---|---|---|"]

        def walk(sid, path, depth, seen):
            rec = b.shapes[sid]
            if rec["type"] == "list":
                walk(rec["item"], path + "[]", depth, seen)
                return
            if rec["type"] == "map" and b.shapes[rec["item"]]["type"] == "structure":
                walk(rec["item"], path + "{}", depth, seen)
                return
            if rec["type"] != "structure" or sid in seen or depth > 12:
                return
            for m in rec["members"]:
                fp = "%s.%s" % (path, m["name"]) if path else m["name"]
                d = m.get("default")
                typ = describe(b, m["shape"]) + ("; or a duration" if m.get("duration") else "")
                out.append("| `%s` | %s | %s | %s | %s |" % (
                    fp, typ, "yes" if m["required"] else "",
                    "" if d is None else "`%s`" % json.dumps(d), m["aws"] or ""))
                walk(m["shape"], fp, depth + 1, seen | {sid})
        walk(metas[k], "metadata", 0, frozenset())
        walk(kinds[k], "spec", 0, frozenset())
        out.append("")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="fail if committed output is stale")
    args = ap.parse_args()
    b, kinds, metas = build(load_models())
    files = {os.path.join(REPO, "pkg", "model", "shapes_gen.c"): emit_c(b, kinds, metas)}
    files[os.path.join(REPO, "docs", "manifest-fields.md")] = emit_fields_doc(b, kinds, metas)
    for name, doc in emit_schemas(b, kinds, metas).items():
        files[os.path.join(REPO, "schema", name)] = json.dumps(doc, indent=1) + "\n"
    stale = []
    for path, text in sorted(files.items()):
        old = None
        if os.path.exists(path):
            with open(path) as f:
                old = f.read()
        if old == text:
            continue
        stale.append(os.path.relpath(path, REPO))
        if not args.check:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
    if args.check:
        if stale:
            print("gen_shapes: stale generated files (run `make gen`): " + ", ".join(stale))
            print("gen: 0 passed, 1 failed")
            return 1
        print("gen: 1 passed, 0 failed")
        return 0
    print("gen_shapes: wrote %d file(s)%s" % (len(stale), (": " + ", ".join(stale)) if stale else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
