// The console's single page: a router over the fragment (#/page/...) and one
// render function per page. Every value from the service reaches the page
// through el() and text nodes, never as HTML.
import { lineChart, barChart, chartSeries } from "./chart.js";

const main = document.getElementById("main");
const defaultFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";
let generation = 0; // bumped at every navigation: stale polls stop
let identity = null;
let pendingNotice = ""; // said once by the next page (after a create)

// api calls one endpoint; a 401 sends the page to sign-in.
async function api(name, body = {}) {
  const resp = await fetch("/console/api/" + name, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Vpcflow-Console": "1" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  if (!resp.ok) {
    if (resp.status === 401 && name !== "signin") {
      identity = null;
      showChrome();
      location.hash = "#/signin";
    }
    const e = (data && data.error) || { code: "HTTP" + resp.status, message: resp.statusText };
    const err = new Error(e.code + ": " + e.message);
    err.code = e.code;
    throw err;
  }
  return data;
}

// el builds an element: el("a", {href: "#/"}, "text", child, ...).
function el(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else if (k === "class") n.className = v;
    else if (v === true) n.setAttribute(k, "");
    else n.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return n;
}

function table(headers, rows, opts = {}) {
  const t = el("table", { class: opts.class },
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", class: h.num ? "num" : null }, h.label || h)))),
    el("tbody", {}, rows));
  return opts.scroll === false ? t : el("div", { class: "scroll" }, t);
}

function empty(text, ...more) { return el("div", { class: "empty", role: "status" }, text, ...more); }
function errorBox(e) { return el("div", { class: "error", role: "alert" }, e.message || String(e)); }
function badge(state) {
  const cls = { OK: "ok", ACTIVE: "ok", SUCCESS: "ok", ALARM: "bad", FAILED: "bad", HIGH: "bad", INSUFFICIENT_DATA: "warn", MEDIUM: "warn" }[state] || "";
  return el("span", { class: "badge " + cls }, state || "—");
}
function fmtTime(ms) {
  if (ms === undefined || ms === null) return "—";
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}
function fmtNum(n) { return Number(n).toLocaleString("en-US"); }
function tagName(tags) { const t = (tags || []).find((x) => x.Key === "Name"); return t ? t.Value : ""; }

function render(...nodes) {
  main.replaceChildren(...nodes);
}

function showChrome() {
  const signed = identity !== null;
  document.getElementById("nav").hidden = !signed;
  document.getElementById("signout").hidden = !signed;
  document.getElementById("identity").textContent = signed ? `account ${identity.account} · ${identity.region}` : "";
}

// ---- sign-in ----

function pageSignIn() {
  const err = el("div");
  const key = el("input", { id: "accessKeyId", name: "accessKeyId", autocomplete: "username", required: true, spellcheck: "false" });
  const secret = el("input", { id: "secretAccessKey", name: "secretAccessKey", type: "password", autocomplete: "current-password", required: true });
  const form = el("form", { class: "panel signin", onsubmit: async (ev) => {
    ev.preventDefault();
    err.replaceChildren();
    try {
      identity = await api("signin", { accessKeyId: key.value, secretAccessKey: secret.value });
      showChrome();
      location.hash = "#/";
    } catch (e) { err.replaceChildren(errorBox(e)); secret.focus(); }
  } },
    el("h1", {}, "Sign in"),
    el("p", { class: "muted" }, "Use the service's access key: the one `vpcflow serve` printed, in DATA_DIR/credentials (profile vpcflow)."),
    el("div", { class: "row" }, el("label", { for: "accessKeyId" }, "Access key ID"), key),
    el("div", { class: "row" }, el("label", { for: "secretAccessKey" }, "Secret access key"), secret),
    err,
    el("div", { class: "actions" }, el("button", { class: "primary", type: "submit", id: "signin-submit" }, "Sign in")));
  render(form);
  key.focus();
}

// ---- overview ----

async function pageOverview() {
  const [h, fl] = await Promise.all([api("overview"), api("flowlogs")]);
  const card = (k, v) => el("div", { class: "card" }, el("div", { class: "v" }, v), el("div", { class: "k" }, k));
  render(
    el("h1", {}, "Overview"),
    el("div", { class: "cards" },
      card("flow logs", fmtNum(h.flowLogs)),
      card("packets read", fmtNum(h.packets)),
      card("records delivered", fmtNum(h.records)),
      card("records undeliverable", fmtNum(h.recordsUndeliverable)),
      card("uptime", Math.round(h.uptimeSeconds) + " s"),
      card("clock", h.clock)),
    el("div", { class: "panel" },
      el("p", {}, "Sources: ", (h.sources || []).join(", ") || "none", h.sourcesEnded ? " (ended)" : ""),
      el("p", {}, "Data dir: ", el("span", { class: "mono" }, h.dataDir))),
    fl.flowLogs.length === 0
      ? empty("No flow logs yet. ", el("a", { href: "#/flowlogs/create" }, "Create a flow log"), " to have records delivered.")
      : el("p", {}, el("a", { href: "#/flowlogs" }, `${fl.flowLogs.length} flow log(s)`), " · ",
        el("a", { href: "#/logs" }, "log groups"), " · ", el("a", { href: "#/dashboards" }, "dashboards")));
}

// ---- network ----

function ruleText(p) {
  const proto = p.IpProtocol === "-1" ? "all" : p.IpProtocol;
  const ports = p.FromPort === undefined ? "" : p.FromPort === p.ToPort ? ` ${p.FromPort}` : ` ${p.FromPort}-${p.ToPort}`;
  const peers = [
    ...(p.IpRanges || []).map((r) => r.CidrIp),
    ...(p.Ipv6Ranges || []).map((r) => r.CidrIpv6),
    ...(p.UserIdGroupPairs || []).map((g) => g.GroupId),
    ...(p.PrefixListIds || []).map((g) => g.PrefixListId),
  ];
  return `${proto}${ports} ${peers.join(", ")}`;
}

async function pageNetwork() {
  const n = await api("network");
  const sgs = new Map((n.SecurityGroups || []).map((g) => [g.GroupId, g]));
  const aclOf = new Map();
  for (const a of n.NetworkAcls || []) for (const as of a.Associations || []) aclOf.set(as.SubnetId, a.NetworkAclId);
  const vpcs = n.Vpcs || [];
  if (vpcs.length === 0) {
    render(el("h1", {}, "Network"), empty("The service has no VPC: start serve with --topology (examples/scenarios.yaml) or create one with aws ec2 create-vpc."));
    return;
  }
  render(
    el("h1", {}, "Network"),
    el("h2", {}, "VPCs"),
    table(["VPC", "Name", "CIDR", "State"], vpcs.map((v) => el("tr", {},
      el("td", { class: "mono" }, v.VpcId), el("td", {}, tagName(v.Tags)), el("td", { class: "mono" }, v.CidrBlock || ""), el("td", {}, v.State || "")))),
    el("h2", {}, "Subnets"),
    table(["Subnet", "Name", "VPC", "CIDR", "AZ", "Network ACL"], (n.Subnets || []).map((s) => el("tr", {},
      el("td", { class: "mono" }, s.SubnetId), el("td", {}, tagName(s.Tags)), el("td", { class: "mono" }, s.VpcId),
      el("td", { class: "mono" }, s.CidrBlock || ""), el("td", {}, s.AvailabilityZone || ""), el("td", { class: "mono" }, aclOf.get(s.SubnetId) || "")))),
    el("h2", {}, "Network interfaces"),
    table(["ENI", "Description", "Subnet", "Private IP", "Public IP", "Security groups", "Network ACL"], (n.NetworkInterfaces || []).map((e) => el("tr", {},
      el("td", { class: "mono" }, e.NetworkInterfaceId), el("td", {}, e.Description || tagName(e.TagSet)), el("td", { class: "mono" }, e.SubnetId),
      el("td", { class: "mono" }, e.PrivateIpAddress || ""), el("td", { class: "mono" }, (e.Association && e.Association.PublicIp) || ""),
      el("td", {}, (e.Groups || []).map((g) => el("div", {}, el("span", { class: "mono" }, g.GroupId), " ", (sgs.get(g.GroupId) || {}).GroupName || ""))),
      el("td", { class: "mono" }, aclOf.get(e.SubnetId) || "")))),
    el("h2", {}, "Security groups"),
    ...(n.SecurityGroups || []).map((g) => el("details", { class: "panel" },
      el("summary", {}, el("span", { class: "mono" }, g.GroupId), ` ${g.GroupName}`, g.Description ? ` — ${g.Description}` : "",
        el("span", { class: "muted" }, ` (${(g.IpPermissions || []).length} inbound, ${(g.IpPermissionsEgress || []).length} outbound permissions)`)),
      el("div", { class: "grid2" },
        el("div", {}, el("strong", {}, "Inbound"), el("ul", {}, (g.IpPermissions || []).map((p) => el("li", { class: "mono" }, ruleText(p))))),
        el("div", {}, el("strong", {}, "Outbound"), el("ul", {}, (g.IpPermissionsEgress || []).map((p) => el("li", { class: "mono" }, ruleText(p)))))))),
    el("h2", {}, "Network ACLs"),
    ...(n.NetworkAcls || []).map((a) => el("details", { class: "panel" },
      el("summary", {}, el("span", { class: "mono" }, a.NetworkAclId), a.IsDefault ? " (default)" : "",
        " — subnets: ", (a.Associations || []).map((x) => x.SubnetId).join(", ") || "none"),
      table(["Rule", "Direction", "Protocol", "Ports", "CIDR", "Action"], (a.Entries || []).map((r) => el("tr", {},
        el("td", { class: "num" }, r.RuleNumber === 32767 ? "*" : r.RuleNumber), el("td", {}, r.Egress ? "outbound" : "inbound"),
        el("td", {}, r.Protocol === "-1" ? "all" : r.Protocol),
        el("td", {}, r.PortRange ? `${r.PortRange.From}-${r.PortRange.To}` : "all"),
        el("td", { class: "mono" }, r.CidrBlock || r.Ipv6CidrBlock || ""), el("td", {}, badge(r.RuleAction === "allow" ? "ALLOW" : "DENY")))), { scroll: false }))));
}

// ---- flow logs ----

async function pageFlowLogs(notice) {
  notice = notice || pendingNotice;
  pendingNotice = "";
  const fl = await api("flowlogs");
  const err = el("div");
  const rows = fl.flowLogs.map((f) => el("tr", {},
    el("td", {}, el("input", { type: "checkbox", name: "flowlog", value: f.id, "aria-label": "select " + f.id })),
    el("td", { class: "mono nowrap" }, f.id), el("td", { class: "mono nowrap" }, f.resourceId), el("td", {}, f.trafficType),
    el("td", {}, f.destinationType),
    el("td", { class: "mono" }, f.destinationType === "cloud-watch-logs"
      ? el("a", { href: "#/logs/" + encodeURIComponent(f.logGroupName) }, f.logGroupName) : f.destination),
    el("td", { class: "num" }, f.maxAggregationInterval + " s"),
    el("td", {}, badge(f.status), " ", badge(f.deliverLogsStatus), f.deliverLogsErrorMessage ? " " + f.deliverLogsErrorMessage : ""),
    el("td", { class: "mono fmt" }, f.logFormat === defaultFormat ? el("span", { class: "muted" }, "default") : f.logFormat)));
  const del = el("button", { type: "button", onclick: async () => {
    const ids = [...main.querySelectorAll("input[name=flowlog]:checked")].map((c) => c.value);
    if (ids.length === 0) { err.replaceChildren(errorBox("Select the flow logs to delete.")); return; }
    try { await api("deleteFlowLogs", { ids }); await pageFlowLogs(`Deleted ${ids.join(", ")}.`); } catch (e) { err.replaceChildren(errorBox(e)); }
  } }, "Delete selected");
  render(
    el("h1", {}, "Flow logs"),
    notice ? el("div", { class: "notice", role: "status" }, notice) : "",
    el("div", { class: "actions" }, el("a", { href: "#/flowlogs/create", class: "button primary" }, "Create flow log"), fl.flowLogs.length ? del : ""),
    err,
    fl.flowLogs.length === 0
      ? empty("No flow logs. Create one for a VPC, subnet or network interface to start receiving records.")
      : table(["", "ID", "Resource", "Filter", "Destination type", "Destination", "Interval", "Status", "Format"], rows));
}

async function pageCreateFlowLog() {
  const [net, fields, roles, buckets, groups] = await Promise.all([
    api("network"), api("fields"), api("roles"), api("buckets"), api("logGroups")]);
  const err = el("div");
  const resources = {
    VPC: (net.Vpcs || []).map((v) => [v.VpcId, tagName(v.Tags) || v.CidrBlock]),
    Subnet: (net.Subnets || []).map((s) => [s.SubnetId, tagName(s.Tags) || s.CidrBlock]),
    NetworkInterface: (net.NetworkInterfaces || []).map((e) => [e.NetworkInterfaceId, e.Description || e.PrivateIpAddress]),
  };
  const radios = (name, options, checked) => options.map(([value, label]) =>
    el("label", {}, el("input", { type: "radio", name, value, id: `${name}-${value}`, checked: value === checked }), label));
  const value = (name) => (main.querySelector(`input[name=${name}]:checked`) || {}).value;

  const resourceSelect = el("select", { id: "resourceId", name: "resourceId", multiple: true, size: "5", required: true });
  const fillResources = () => {
    const type = value("resourceType");
    resourceSelect.replaceChildren(...resources[type].map(([id, label]) => el("option", { value: id }, `${id} ${label ? "(" + label + ")" : ""}`)));
    if (resourceSelect.options.length) resourceSelect.options[0].selected = true;
  };

  const name = el("input", { id: "name", name: "name", placeholder: "optional" });
  const logGroup = el("input", { id: "logGroupName", name: "logGroupName", list: "groups-list", placeholder: "/vpc/flow-logs" });
  const role = el("input", { id: "role", name: "role", list: "roles-list", placeholder: "arn:aws:iam::ACCOUNT:role/NAME" });
  if (roles.roles.length) role.value = roles.roles[0];
  const bucket = el("input", { id: "bucketArn", name: "bucketArn", list: "buckets-list", placeholder: "arn:aws:s3:::bucket/optional-prefix" });
  if (buckets.buckets.length) bucket.value = "arn:aws:s3:::" + buckets.buckets[0];
  const fileFormat = el("select", { id: "fileFormat", name: "fileFormat" }, el("option", { value: "plain-text" }, "Text (default)"), el("option", { value: "parquet" }, "Parquet"));
  const hive = el("input", { type: "checkbox", id: "hive", name: "hive" });
  const perHour = el("input", { type: "checkbox", id: "perHour", name: "perHour" });

  const cwl = el("fieldset", { id: "cwl-options" }, el("legend", {}, "CloudWatch Logs"),
    el("div", { class: "row" }, el("label", { for: "logGroupName" }, "Destination log group"), logGroup,
      el("div", { class: "help" }, "Created at the first delivery if it does not exist. One stream per network interface.")),
    el("div", { class: "row" }, el("label", { for: "role" }, "IAM role"), role,
      el("div", { class: "help" }, "A role the flow-logs service may assume (vpc-flow-logs.amazonaws.com) that may write to the group.")),
    el("datalist", { id: "groups-list" }, groups.logGroups.map((g) => el("option", { value: g.logGroupName }))),
    el("datalist", { id: "roles-list" }, roles.roles.map((r) => el("option", { value: r }))));
  const s3 = el("fieldset", { id: "s3-options", hidden: true }, el("legend", {}, "Amazon S3"),
    el("div", { class: "row" }, el("label", { for: "bucketArn" }, "S3 bucket ARN"), bucket,
      el("div", { class: "help" }, buckets.buckets.length ? "The bucket must exist." : "No bucket yet: make one with aws s3 mb s3://NAME --endpoint-url …")),
    el("datalist", { id: "buckets-list" }, buckets.buckets.map((b) => el("option", { value: "arn:aws:s3:::" + b }))),
    el("div", { class: "row" }, el("label", { for: "fileFormat" }, "Log file format"), fileFormat),
    el("div", { class: "row" }, el("label", { class: "inline" }, hive, "Hive-compatible S3 prefix")),
    el("div", { class: "row" }, el("label", { class: "inline" }, perHour, "Partition logs by time: every hour (default: every 24 hours)")));

  // The format builder: the default format, or a custom selection whose
  // order is the order of the ticks, changeable with the arrows.
  let order = fields.fields.filter((f) => f.default).map((f) => f.name);
  const preview = el("div", { class: "preview mono", id: "format-preview", "aria-live": "polite" });
  const orderList = el("ol", { class: "order", id: "format-order" });
  const fieldBoxes = fields.fields.map((f) => el("label", { title: `v${f.version}: ${f.meaning}` },
    el("input", { type: "checkbox", name: "field", value: f.name, checked: order.includes(f.name), onchange: (ev) => {
      if (ev.target.checked) order.push(f.name); else order = order.filter((x) => x !== f.name);
      drawOrder();
    } }), f.name));
  const formatText = () => (value("formatKind") === "custom" ? order.map((f) => "${" + f + "}").join(" ") : fields.defaultFormat);
  function drawOrder() {
    orderList.replaceChildren(...order.map((f, i) => el("li", {}, el("span", { class: "mono" }, f),
      el("button", { type: "button", "aria-label": `move ${f} up`, disabled: i === 0, onclick: () => { [order[i - 1], order[i]] = [order[i], order[i - 1]]; drawOrder(); } }, "↑"),
      el("button", { type: "button", "aria-label": `move ${f} down`, disabled: i === order.length - 1, onclick: () => { [order[i + 1], order[i]] = [order[i], order[i + 1]]; drawOrder(); } }, "↓"))));
    preview.textContent = formatText();
  }
  const custom = el("div", { id: "custom-format", hidden: true },
    el("p", { class: "help" }, "Tick the fields in the order you want them; the arrows reorder them."),
    el("div", { class: "fieldgrid" }, fieldBoxes),
    el("strong", {}, "Order"), orderList);

  const form = el("form", { class: "wizard", onsubmit: async (ev) => {
    ev.preventDefault();
    err.replaceChildren();
    const dest = value("destination");
    const req = {
      resourceType: value("resourceType"),
      resourceIds: [...resourceSelect.selectedOptions].map((o) => o.value),
      trafficType: value("trafficType"),
      maxAggregationInterval: Number(value("interval")),
      logDestinationType: dest,
      logFormat: value("formatKind") === "custom" ? formatText() : "",
      name: name.value.trim(),
      clientToken: crypto.randomUUID(),
    };
    if (dest === "s3") Object.assign(req, { logDestination: bucket.value.trim(), fileFormat: fileFormat.value, hiveCompatiblePartitions: hive.checked, perHourPartition: perHour.checked });
    else Object.assign(req, { logGroupName: logGroup.value.trim(), deliverLogsPermissionArn: role.value.trim() });
    try {
      const out = await api("createFlowLog", req);
      if (out.unsuccessful.length) {
        err.replaceChildren(errorBox(out.unsuccessful.map((u) => `${u.ResourceId}: ${u.Message} (${u.Code})`).join("\n")));
        if (!out.flowLogIds.length) return;
      }
      pendingNotice = `Created ${out.flowLogIds.join(", ")}. Records arrive at the end of the next capture window.`;
      location.hash = "#/flowlogs";
    } catch (e) { err.replaceChildren(errorBox(e)); }
  } },
    el("h1", {}, "Create flow log"),
    el("div", { class: "row" }, el("label", { for: "name" }, "Name"), name),
    el("fieldset", {}, el("legend", {}, "Resource type"), radios("resourceType", [["VPC", "VPC"], ["Subnet", "Subnet"], ["NetworkInterface", "Network interface"]], "VPC"),
      el("div", { class: "row" }, el("label", { for: "resourceId" }, "Resources"), resourceSelect)),
    el("fieldset", {}, el("legend", {}, "Filter"), radios("trafficType", [["ACCEPT", "Accept"], ["REJECT", "Reject"], ["ALL", "All"]], "ALL")),
    el("fieldset", {}, el("legend", {}, "Maximum aggregation interval"), radios("interval", [["600", "10 minutes"], ["60", "1 minute"]], "600")),
    el("fieldset", {}, el("legend", {}, "Destination"), radios("destination", [["cloud-watch-logs", "Send to CloudWatch Logs"], ["s3", "Send to an Amazon S3 bucket"]], "cloud-watch-logs")),
    cwl, s3,
    el("fieldset", {}, el("legend", {}, "Log record format"), radios("formatKind", [["default", "AWS default format"], ["custom", "Custom format"]], "default"),
      custom, el("div", { class: "row" }, el("strong", {}, "Format preview"), preview)),
    err,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", id: "create-submit" }, "Create flow log"),
      el("a", { href: "#/flowlogs" }, "Cancel")));
  form.addEventListener("change", (ev) => {
    if (ev.target.name === "resourceType") fillResources();
    if (ev.target.name === "destination") { cwl.hidden = value("destination") !== "cloud-watch-logs"; s3.hidden = !cwl.hidden; }
    if (ev.target.name === "formatKind") { custom.hidden = value("formatKind") !== "custom"; drawOrder(); }
  });
  render(form);
  fillResources();
  drawOrder();
  name.focus();
}

// ---- log groups, streams, events ----

async function pageLogGroups() {
  const out = await api("logGroups");
  render(el("h1", {}, "Log groups"),
    out.logGroups.length === 0
      ? empty("No log groups. A flow log to CloudWatch Logs creates its group at its first delivery.")
      : table(["Log group", { label: "Stored bytes", num: true }, "Retention", "Metric filters", "Created"], out.logGroups.map((g) => el("tr", {},
        el("td", {}, el("a", { href: "#/logs/" + encodeURIComponent(g.logGroupName) }, g.logGroupName)),
        el("td", { class: "num" }, fmtNum(g.storedBytes)), el("td", {}, g.retentionInDays ? g.retentionInDays + " days" : "Never expire"),
        el("td", {}, g.metricFilterCount), el("td", {}, fmtTime(g.creationTime))))),
    out.nextToken ? el("p", { class: "muted" }, "More groups exist: narrow with aws logs describe-log-groups.") : "");
}

async function pageStreams(group) {
  const gen = generation;
  const list = el("tbody");
  const more = el("div", { class: "actions" });
  const groupLink = el("a", { href: "#/logs/" + encodeURIComponent(group) + "/*" }, "Search all streams");
  render(el("h1", {}, "Log group ", el("span", { class: "mono" }, group)),
    el("div", { class: "actions" }, groupLink, el("a", { href: "#/insights?group=" + encodeURIComponent(group) }, "Query with Logs Insights")),
    el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, ["Log stream", "Last event", "First event"].map((h) => el("th", { scope: "col" }, h)))), list)),
    more);
  async function page(token) {
    const out = await api("logStreams", { group, nextToken: token || "" });
    if (gen !== generation) return;
    if (!token && out.logStreams.length === 0) list.append(el("tr", {}, el("td", { colspan: "3" }, empty("No streams yet: the group's flow log delivers one stream per interface at the end of each window."))));
    for (const s of out.logStreams) {
      list.append(el("tr", {}, el("td", {}, el("a", { href: "#/logs/" + encodeURIComponent(group) + "/" + encodeURIComponent(s.logStreamName), class: "mono" }, s.logStreamName)),
        el("td", {}, fmtTime(s.lastEventTimestamp)), el("td", {}, fmtTime(s.firstEventTimestamp))));
    }
    more.replaceChildren(out.nextToken ? el("button", { type: "button", onclick: () => page(out.nextToken) }, "More streams") : "");
  }
  await page("");
}

async function pageEvents(group, stream) {
  const gen = generation;
  const streams = stream === "*" ? [] : [stream];
  const pattern = el("input", { id: "pattern", name: "pattern", placeholder: '[version, account, eni, src, dst, srcport, dstport="22", ...]', size: "60" });
  const body = el("tbody", { id: "events" });
  const status = el("span", { class: "muted", role: "status", "aria-live": "polite" });
  const older = el("button", { type: "button", hidden: true }, "Older events");
  const tailBtn = el("button", { type: "button", id: "tail", "aria-pressed": "false" }, "Start live tail");
  const err = el("div");
  let nextToken = "", newest = null, seen = new Set(), tailing = false, count = 0, searched = 0;

  const row = (e) => el("tr", {}, el("td", { class: "mono" }, fmtTime(e.timestamp)), el("td", { class: "mono msg" }, e.message));
  function note(e) { if (newest === null || e.timestamp > newest) newest = e.timestamp; seen.add(e.eventId); count++; }
  // A page the server cut short for time (partial) says how far the
  // search went; the button continues it from there.
  function show(out) {
    if (out.events.length && body.querySelector(".empty")) body.replaceChildren();
    out.events.forEach((e) => { note(e); body.append(row(e)); });
    searched += out.scanned || 0;
    nextToken = out.nextToken || "";
    older.hidden = !nextToken;
    older.textContent = out.partial ? "Continue searching" : "Older events";
    const found = count ? `${fmtNum(count)} events, newest first` : "No events match so far";
    status.textContent = out.partial ? `${found}; searched ${fmtNum(searched)} of about ${fmtNum(out.total || 0)} events.` : (count ? found : "No events match.");
    if (!count) body.replaceChildren(el("tr", {}, el("td", { colspan: "2" }, empty(out.partial
      ? `No match in the newest ${fmtNum(searched)} events yet: "Continue searching" reads on.`
      : pattern.value ? "No event matches the pattern." : "No events yet: records arrive at the end of each capture window."))));
  }
  async function search() {
    err.replaceChildren();
    body.replaceChildren();
    seen = new Set(); newest = null; count = 0; searched = 0;
    try {
      const out = await api("events", { group, streams, pattern: pattern.value, descending: true, limit: 100 });
      if (gen !== generation) return;
      show(out);
    } catch (e) { err.replaceChildren(errorBox(e)); }
  }
  older.addEventListener("click", async () => {
    try {
      const out = await api("events", { group, streams, pattern: pattern.value, descending: true, limit: 100, nextToken });
      if (gen !== generation) return;
      show(out);
    } catch (e) { err.replaceChildren(errorBox(e)); }
  });
  // Live tail polls for events at or after the newest shown; the ids seen
  // at that millisecond are skipped.
  async function poll() {
    if (!tailing || gen !== generation) return;
    try {
      const start = newest === null ? Date.now() - 5 * 60 * 1000 : newest;
      const out = await api("events", { group, streams, pattern: pattern.value, startTime: start, limit: 500 });
      if (gen !== generation) return;
      const fresh = out.events.filter((e) => !seen.has(e.eventId));
      if (fresh.length && body.querySelector(".empty")) body.replaceChildren();
      for (const e of fresh) { note(e); body.prepend(row(e)); }
      status.textContent = `live tail: ${count} events, newest first`;
    } catch (e) { err.replaceChildren(errorBox(e)); }
    setTimeout(poll, 2000);
  }
  tailBtn.addEventListener("click", () => {
    tailing = !tailing;
    tailBtn.textContent = tailing ? "Stop live tail" : "Start live tail";
    tailBtn.setAttribute("aria-pressed", String(tailing));
    tailBtn.classList.toggle("tail-on", tailing);
    if (tailing) poll();
  });
  render(
    el("h1", {}, el("a", { href: "#/logs/" + encodeURIComponent(group) }, group), " / ", el("span", { class: "mono" }, stream === "*" ? "all streams" : stream)),
    el("form", { class: "actions", onsubmit: (ev) => { ev.preventDefault(); search(); } },
      el("label", { for: "pattern", class: "inline" }, "Filter pattern"), pattern, el("button", { type: "submit", class: "primary", id: "search" }, "Search"), tailBtn, status),
    el("p", { class: "help" }, 'Filter patterns as in CloudWatch Logs: a term ("REJECT"), or space-delimited fields such as [version, account, eni, src, dst, srcport, dstport=22, protocol, packets, bytes, start, end, action="REJECT", status].'),
    err,
    el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Timestamp"), el("th", { scope: "col" }, "Message"))), body)),
    el("div", { class: "actions" }, older));
  await search();
}

// ---- Logs Insights ----

const sampleQueries = [
  ["Top 10 byte transfers by source and destination", "stats sum(bytes) as bytesTransferred by srcAddr, dstAddr\n| sort bytesTransferred desc\n| limit 10"],
  ["Rejected requests by source", 'filter action = "REJECT"\n| stats count(*) as rejects by srcAddr\n| sort rejects desc\n| limit 20'],
  ["Rejects over time", 'filter action = "REJECT"\n| stats count(*) as rejects by bin(1m)'],
  ["Bytes per interface over time", "stats sum(bytes) as bytes by bin(1m), interfaceId"],
  ["SSH attempts (port 22)", 'filter dstPort = 22\n| stats count(*) as attempts by srcAddr, action\n| sort attempts desc'],
  ["Latest 20 records", "fields @timestamp, interfaceId, srcAddr, dstAddr, dstPort, action, bytes\n| sort @timestamp desc\n| limit 20"],
];

const ranges = [["5m", 300], ["15m", 900], ["1h", 3600], ["3h", 10800], ["1d", 86400], ["all", 0]];
function rangeSelect(id, def) {
  return el("select", { id, name: id }, ranges.map(([l, s]) => el("option", { value: String(s), selected: l === def }, l === "all" ? "all time" : "last " + l)));
}
function rangeTimes(sel) {
  const s = Number(sel.value);
  if (!s) return {};
  const now = Math.floor(Date.now() / 1000);
  return { startTime: now - s, endTime: now };
}

// runQuery starts an Insights query and polls until it ends; progress,
// when given, hears each poll's records scanned of about total.
async function runQuery(groups, query, times, gen, started, progress) {
  const { queryId, total } = await api("startQuery", { groups, query, ...times });
  if (started) started(queryId);
  for (let wait = 100; ; wait = Math.min(wait * 2, 1000)) {
    const r = await api("queryResults", { queryId });
    if (r.Status !== "Running" && r.Status !== "Scheduled") return r;
    if (progress && gen === generation) progress(r.Status, (r.Statistics || {}).RecordsScanned || 0, total || 0);
    if (gen !== generation) { api("stopQuery", { queryId }).catch(() => {}); return null; }
    await new Promise((res) => setTimeout(res, wait));
  }
}

// progressText says how far a running query is.
function progressText(status, scanned, total) {
  if (status === "Scheduled") return "Waiting for a running query to end…";
  const pct = total > 0 ? ` (${Math.min(100, Math.floor(100 * scanned / total))}%)` : "";
  return `Running: ${fmtNum(scanned)} of about ${fmtNum(total)} records scanned${pct}…`;
}

// resultTable turns Insights rows (lists of {field, value}) into a table.
function resultRows(r) {
  const cols = (r.Columns || []).filter((c) => c !== "@ptr");
  const rows = (r.Rows || []).map((row) => { const m = {}; for (const f of row) m[f.field] = f.value; return m; });
  return { cols, rows };
}
function resultTable(r) {
  const { cols, rows } = resultRows(r);
  if (!rows.length) return empty("The query matched no records in the time range.");
  return table(cols, rows.map((m) => el("tr", {}, cols.map((c) => el("td", { class: "mono" }, m[c] ?? "")))));
}
function resultChart(r) {
  const { cols, rows } = resultRows(r);
  const bin = cols.find((c) => c.startsWith("bin("));
  if (!bin || !rows.length) return null;
  return lineChart(chartSeries(cols, rows, bin));
}

async function pageInsights(params) {
  const gen = generation;
  const groups = await api("logGroups");
  const names = groups.logGroups.map((g) => g.logGroupName);
  if (!names.length) { render(el("h1", {}, "Logs Insights"), empty("No log groups to query yet. ", el("a", { href: "#/flowlogs/create" }, "Create a flow log"), " to CloudWatch Logs.")); return; }
  const want = params.get("group") || names[0];
  const groupSel = el("select", { id: "groups", name: "groups", multiple: true, size: String(Math.min(4, names.length)) },
    names.map((n) => el("option", { value: n, selected: n === want }, n)));
  const q = el("textarea", { id: "query", name: "query", rows: "6", spellcheck: "false" });
  q.value = params.get("q") || sampleQueries[0][1];
  const range = rangeSelect("range", "1h");
  const samples = el("select", { id: "samples", "aria-label": "Sample queries", onchange: (ev) => { if (ev.target.value !== "") q.value = sampleQueries[Number(ev.target.value)][1]; } },
    el("option", { value: "" }, "Sample queries…"), sampleQueries.map(([l], i) => el("option", { value: String(i) }, l)));
  const out = el("div", { id: "results" });
  const status = el("span", { class: "muted", role: "status", "aria-live": "polite" });
  let running = "";
  const stop = el("button", { type: "button", id: "stop-query", hidden: true, onclick: () => { if (running) api("stopQuery", { queryId: running }).catch(() => {}); } }, "Stop");
  const run = async () => {
    out.replaceChildren();
    status.textContent = "Running…";
    const t0 = performance.now();
    try {
      const r = await runQuery([...groupSel.selectedOptions].map((o) => o.value), q.value, rangeTimes(range), gen,
        (id) => { running = id; stop.hidden = false; },
        (st, scanned, total) => { status.textContent = progressText(st, scanned, total); });
      running = ""; stop.hidden = true;
      if (!r) return;
      const s = r.Statistics || {};
      status.textContent = `${r.Status}: ${fmtNum((r.Rows || []).length)} rows, ${fmtNum(s.RecordsMatched || 0)} of ${fmtNum(s.RecordsScanned || 0)} records matched, ${Math.round(performance.now() - t0)} ms`;
      out.replaceChildren(resultChart(r) || "", resultTable(r));
    } catch (e) { running = ""; stop.hidden = true; status.textContent = ""; out.replaceChildren(errorBox(e)); }
  };
  render(el("h1", {}, "Logs Insights"),
    el("form", { onsubmit: (ev) => { ev.preventDefault(); run(); } },
      el("div", { class: "actions" },
        el("div", {}, el("label", { for: "groups" }, "Log groups"), groupSel),
        el("div", {}, el("label", { for: "range" }, "Time range"), range),
        el("div", {}, el("label", { for: "samples" }, "Samples"), samples)),
      el("label", { for: "query" }, "Query"), q,
      el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", id: "run-query" }, "Run query"), stop, status)),
    out);
  q.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); run(); } });
  q.focus();
}

// ---- SQL ----

const sampleSQL = [
  ["Top talkers", "SELECT srcaddr, dstaddr, SUM(bytes) AS bytes\nFROM vpc_flow_logs\nGROUP BY srcaddr, dstaddr\nORDER BY bytes DESC\nLIMIT 10"],
  ["Rejected traffic by destination port", "SELECT dstport, COUNT(*) AS records\nFROM vpc_flow_logs\nWHERE action = 'REJECT'\nGROUP BY dstport\nORDER BY records DESC\nLIMIT 20"],
  ["Records per minute", "SELECT date_trunc('minute', from_unixtime(start)) AS minute, COUNT(*) AS records\nFROM vpc_flow_logs\nGROUP BY 1\nORDER BY 1"],
  ["Latest records", "SELECT *\nFROM vpc_flow_logs\nORDER BY start DESC\nLIMIT 50"],
];

async function pageSQL() {
  const b = await api("buckets");
  if (!b.buckets.length) { render(el("h1", {}, "SQL over S3"), empty("No buckets: make one with aws s3 mb and create a flow log to it.")); return; }
  const bucket = el("select", { id: "bucket", name: "bucket" }, b.buckets.map((x) => el("option", { value: x }, x)));
  const prefix = el("input", { id: "prefix", name: "prefix", placeholder: "optional, e.g. AWSLogs/123456789012" });
  const q = el("textarea", { id: "sql", name: "sql", rows: "7", spellcheck: "false" });
  q.value = sampleSQL[0][1];
  const samples = el("select", { id: "sql-samples", "aria-label": "Sample queries", onchange: (ev) => { if (ev.target.value !== "") q.value = sampleSQL[Number(ev.target.value)][1]; } },
    el("option", { value: "" }, "Sample queries…"), sampleSQL.map(([l], i) => el("option", { value: String(i) }, l)));
  const out = el("div", { id: "sql-results" });
  const status = el("span", { class: "muted", role: "status", "aria-live": "polite" });
  const run = async () => {
    out.replaceChildren();
    status.textContent = "Running…";
    const t0 = performance.now();
    try {
      const r = await api("sql", { bucket: bucket.value, prefix: prefix.value, query: q.value });
      status.textContent = `${fmtNum(r.rows.length)}${r.truncated ? "+ (first rows only)" : ""} rows over ${r.objects} objects, ${Math.round(performance.now() - t0)} ms`;
      out.replaceChildren(
        r.problems.length ? el("div", { class: "error" }, `Left out ${r.skippedObjects} objects and ${r.skippedLines} lines:\n` + r.problems.join("\n")) : "",
        r.rows.length ? table(r.columns, r.rows.map((row) => el("tr", {}, row.map((v) => el("td", { class: "mono" }, v === null ? "NULL" : v))))) : empty(r.objects ? "No rows." : "The bucket holds no flow-log objects yet."));
    } catch (e) { status.textContent = ""; out.replaceChildren(errorBox(e)); }
  };
  render(el("h1", {}, "SQL over S3"),
    el("p", { class: "muted" }, "The delivered objects of a bucket as the Athena table vpc_flow_logs (DuckDB, Trino's functions)."),
    el("form", { onsubmit: (ev) => { ev.preventDefault(); run(); } },
      el("div", { class: "actions" },
        el("div", {}, el("label", { for: "bucket" }, "Bucket"), bucket),
        el("div", {}, el("label", { for: "prefix" }, "Prefix"), prefix),
        el("div", {}, el("label", { for: "sql-samples" }, "Samples"), samples)),
      el("label", { for: "sql" }, "Query"), q,
      el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", id: "run-sql" }, "Run query"), status)),
    out);
  q.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); run(); } });
}

// ---- dashboards ----

async function pageDashboards(params) {
  const gen = generation;
  const groups = await api("logGroups");
  const names = groups.logGroups.map((g) => g.logGroupName);
  if (!names.length) { render(el("h1", {}, "Dashboards"), empty("Dashboards read a flow log's log group: ", el("a", { href: "#/flowlogs/create" }, "create a flow log"), " to CloudWatch Logs first.")); return; }
  const group = el("select", { id: "dash-group", name: "group" }, names.map((n) => el("option", { value: n, selected: n === params.get("group") }, n)));
  const range = rangeSelect("dash-range", "1h");
  const talkers = el("div", {}), rejects = el("div", {}), enis = el("div", {});
  const panel = (title, q, body) => el("section", { class: "panel" }, el("h2", {}, title, " ",
    el("a", { class: "help", href: "#/insights?group=" + encodeURIComponent(group.value) + "&q=" + encodeURIComponent(q) }, "open in Insights")), body);
  const qTalkers = "stats sum(bytes) as bytes by srcAddr, dstAddr | sort bytes desc | limit 10";
  const qRejects = 'filter action = "REJECT" | stats count(*) as rejects by bin(1m)';
  const qEnis = "stats sum(bytes) as bytes by bin(1m), interfaceId";
  async function load() {
    const times = rangeTimes(range);
    const gs = [group.value];
    for (const [box, q, draw] of [
      [talkers, qTalkers, (r) => { const { rows } = resultRows(r); return rows.length ? barChart(rows.map((m) => [`${m.srcAddr} → ${m.dstAddr}`, Number(m.bytes)]), "bytes") : empty("No traffic in the range."); }],
      [rejects, qRejects, (r) => resultChart(r) || empty("No rejected traffic in the range.")],
      [enis, qEnis, (r) => resultChart(r) || empty("No traffic in the range.")],
    ]) {
      box.replaceChildren(el("span", { class: "muted" }, "Loading…"));
      runQuery(gs, q, times, gen, null, (st, scanned, total) => box.replaceChildren(el("span", { class: "muted", role: "status" }, progressText(st, scanned, total)))).then((r) => { if (r) box.replaceChildren(draw(r)); }).catch((e) => box.replaceChildren(errorBox(e)));
    }
  }
  group.addEventListener("change", load);
  range.addEventListener("change", load);
  render(el("h1", {}, "Dashboards"),
    el("div", { class: "actions" }, el("label", { for: "dash-group", class: "inline" }, "Log group"), group, el("label", { for: "dash-range", class: "inline" }, "Range"), range,
      el("button", { type: "button", onclick: load }, "Refresh")),
    panel("Top talkers (bytes)", qTalkers, talkers),
    el("div", { class: "grid2" }, panel("Rejects over time", qRejects, rejects), panel("Traffic per network interface (bytes)", qEnis, enis)));
  await load();
}

// ---- alarms ----

async function pageAlarms() {
  const gen = generation;
  const box = el("div", { id: "alarms" });
  const filters = el("div");
  render(el("h1", {}, "Alarms"),
    el("p", { class: "muted" }, "Metric alarms on the metrics of metric filters; this page refreshes every 5 seconds."),
    box, el("h2", {}, "Metric filters"), filters);
  async function load() {
    if (gen !== generation) return;
    try {
      const [a, f] = await Promise.all([api("alarms"), api("metricFilters")]);
      if (gen !== generation) return;
      box.replaceChildren(a.alarms.length === 0
        ? empty("No alarms. Create one with aws cloudwatch put-metric-alarm on a metric filter's metric.")
        : table(["Name", "State", "Metric", "Condition", "Reason", "Updated"], a.alarms.map((x) => el("tr", { "data-alarm": x.AlarmName, "data-state": x.StateValue },
          el("td", { class: "nowrap" }, x.AlarmName), el("td", {}, badge(x.StateValue)), el("td", { class: "mono" }, `${x.Namespace} ${x.MetricName}`),
          el("td", {}, `${x.Statistic} ${x.ComparisonOperator.replace(/([A-Z])/g, " $1").trim().toLowerCase()} ${x.Threshold} for ${x.DatapointsToAlarm}/${x.EvaluationPeriods} × ${x.Period} s`),
          el("td", {}, x.StateReason), el("td", {}, x.StateUpdatedTimestamp || "")))));
      filters.replaceChildren(f.metricFilters.length === 0
        ? empty("No metric filters. aws logs put-metric-filter turns matching events into metrics.")
        : table(["Log group", "Filter", "Pattern", "Metric"], f.metricFilters.map((m) => el("tr", {},
          el("td", {}, m.logGroupName), el("td", {}, m.filterName), el("td", { class: "mono" }, m.filterPattern),
          el("td", { class: "mono" }, (m.metricTransformations || []).map((t) => `${t.metricNamespace} ${t.metricName} += ${t.metricValue}`).join(", "))))));
    } catch (e) { box.replaceChildren(errorBox(e)); return; }
    setTimeout(load, 5000);
  }
  await load();
}

// ---- findings ----

async function pageFindings(params) {
  const gen = generation;
  const archived = params.get("archived") === "1";
  const f = await api("findings", { archived });
  if (!f.enabled) {
    render(el("h1", {}, "Findings"), empty("Detections are not enabled in this service: no findings to show."));
    return;
  }
  const err = el("div");
  const sev = (s) => badge(s >= 7 ? "HIGH" : s >= 4 ? "MEDIUM" : "LOW");
  const act = el("button", { type: "button", onclick: async () => {
    const ids = [...main.querySelectorAll("input[name=finding]:checked")].map((c) => c.value);
    if (!ids.length) { err.replaceChildren(errorBox("Select the findings first.")); return; }
    try { await api("archiveFindings", { ids, archived: !archived }); if (gen === generation) await pageFindings(params); } catch (e) { err.replaceChildren(errorBox(e)); }
  } }, archived ? "Unarchive selected" : "Archive selected");
  render(el("h1", {}, "Findings"),
    el("p", { class: "muted" }, `Threats detected in the delivered records (detector ${f.detectorId}), as the GuardDuty API lists them. `,
      archived ? el("a", { href: "#/findings" }, "Show current") : el("a", { href: "#/findings?archived=1" }, "Show archived")),
    f.findings.length ? el("div", { class: "actions" }, act) : "", err,
    f.findings.length === 0 ? empty(archived ? "No archived findings." : "No findings: nothing suspicious in the records so far.") :
      table(["", "Severity", "Type", "Interface", "Title", "Windows", "Last seen"], f.findings.map((x) => el("tr", {},
        el("td", {}, el("input", { type: "checkbox", name: "finding", value: x.id, "aria-label": "select " + x.id })),
        el("td", {}, sev(x.severity), " ", x.severity), el("td", { class: "mono" }, x.type), el("td", { class: "mono nowrap" }, x.interface),
        el("td", { title: x.description }, x.title), el("td", { class: "num" }, x.count), el("td", { class: "nowrap" }, x.lastSeen)))));
}

// ---- router ----

const routes = [
  [/^#\/signin$/, pageSignIn],
  [/^#\/?$/, pageOverview],
  [/^#\/network$/, pageNetwork],
  [/^#\/flowlogs$/, () => pageFlowLogs()],
  [/^#\/flowlogs\/create$/, pageCreateFlowLog],
  [/^#\/logs$/, pageLogGroups],
  [/^#\/logs\/([^/]+)$/, (g) => pageStreams(decodeURIComponent(g))],
  [/^#\/logs\/([^/]+)\/([^/]+)$/, (g, s) => pageEvents(decodeURIComponent(g), decodeURIComponent(s))],
  [/^#\/insights$/, (_, __, p) => pageInsights(p)],
  [/^#\/sql$/, pageSQL],
  [/^#\/dashboards$/, (_, __, p) => pageDashboards(p)],
  [/^#\/alarms$/, pageAlarms],
  [/^#\/findings$/, (_, __, p) => pageFindings(p)],
];

async function route() {
  generation++;
  const [path, query] = (location.hash || "#/").split("?");
  const params = new URLSearchParams(query || "");
  if (identity === null && path !== "#/signin") {
    try { identity = await api("whoami"); } catch (e) { identity = null; }
    showChrome();
    if (identity === null) { location.hash = "#/signin"; return; }
  }
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.getAttribute("href") === path);
  for (const [re, page] of routes) {
    const m = path.match(re);
    if (m) {
      try {
        const args = m.slice(1);
        while (args.length < 2) args.push(undefined);
        await page(...args, params);
      } catch (e) { if (e.code !== "SignInRequired") render(errorBox(e)); }
      document.title = `${(main.querySelector("h1") || {}).textContent || "vpcflow"} · vpcflow console`;
      return;
    }
  }
  render(el("h1", {}, "Not found"), empty("No such page. ", el("a", { href: "#/" }, "Overview")));
}

document.getElementById("signout").addEventListener("click", async () => {
  await api("signout").catch(() => {});
  identity = null;
  showChrome();
  location.hash = "#/signin";
});
window.addEventListener("hashchange", route);
route();
