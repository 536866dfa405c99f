// Code an integrator would write against the types openapi-typescript generates from
// /api/v1/schema/ (schema.d.ts, generated next to this file by tests/test_api_clients.py).
// `tsc` must accept it: a schema change that breaks such code fails the check.
import type { components, paths, webhooks } from "./schema";

type Schemas = components["schemas"];
type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;

export type KpiReport = Json<paths["/api/v1/kpis/"]["get"]["responses"][200]>;
export type KpiSeries = Json<paths["/api/v1/kpis/series/"]["get"]["responses"][200]>;
export type RowsPage = Json<paths["/api/v1/kpis/{key}/rows/"]["get"]["responses"][200]>;
export type Health = Json<paths["/api/v1/customers/{id}/health/"]["get"]["responses"][200]>;
export type KpiQuery = paths["/api/v1/kpis/"]["get"]["parameters"]["query"];

export const february: KpiQuery = { start: "2024-02-01", end: "2024-03-01", keys: "mrr,logo_churn_rate,nps" };

/** Logo churn as "2 of 4", or the reason it has no value. */
export function churnText(report: KpiReport): string {
  const churn: Schemas["KpiRatio"] | undefined = report.kpis.logo_churn_rate;
  if (churn === undefined) return "not asked for";
  if (churn.value === null) return churn.reason ?? "undefined";
  return `${churn.numerator ?? 0} of ${churn.denominator ?? 0} (${(churn.value * 100).toFixed(1)} %)`;
}

export function npsAnswers(report: Schemas["KpiReport"]): number {
  const nps: Schemas["KpiNps"] | undefined = report.kpis.nps;
  return nps ? nps.promoters + nps.passives + nps.detractors : 0;
}

export function featureShares(report: KpiReport): Array<[string, number | null]> {
  const adoption = report.kpis.feature_adoption;
  return adoption ? Object.entries(adoption.features).map(([name, share]) => [name, share.value]) : [];
}

export function chartPoints(series: KpiSeries): Array<{ x: string; y: number | null }> {
  const monthly: Schemas["KpiIntervalEnum"] = series.interval;
  return series.series.map((point) => ({ x: `${monthly} ${point.period.start}`, y: point.kpis.mrr?.value ?? null }));
}

/** One line per row behind a figure: the rows are told apart by their `kind`. */
export function rowText(row: Schemas["KpiRow"]): string {
  switch (row.kind) {
    case "customer_movement":
      return `${row.customer ?? row.customer_id}: ${row.mrr_opening} → ${row.mrr} (${row.movement ?? "no movement"})`;
    case "new_customer":
      return `${row.customer} since ${row.first}`;
    case "cost":
      return `${row.cost.month} ${row.cost.category}: ${row.cost.amount}`;
    case "survey_response":
      return `${row.customer__name} scored ${row.score}: ${row.comment}`;
    case "ticket":
      return `${row.external_id} took ${row.contacts_count} contacts`;
    case "session":
      return `${row.contact__external_id} for ${row.duration_seconds} s`;
    case "feature":
      return `${row.event_type}: ${row.customers} customers`;
    case "active_user":
      return `${row.contact__external_id}: ${row.active_days} days`;
    case "lead":
      return `${row.external_id} from ${row.source}, converted ${row.converted_at ?? "not yet"}`;
    case "trial":
      return `${row.name}: ${row.converted ? "converted" : "not converted"}`;
    case "signup":
      return `${row.name} on ${row.created_on}`;
    default:
      return "a kind of row added after this code was written"; // new kinds may come within v1
  }
}

export function rowsText(page: RowsPage): string[] {
  return page.results.map(rowText).concat(page.next === null ? [] : [`more: ${page.count - page.results.length}`]);
}

export function weakestComponent(health: Health): string {
  const parts = health.components;
  const scores: Array<[string, string | null]> = [
    ["frequency", parts.frequency.score], ["breadth", parts.breadth.score], ["depth", parts.depth.score],
    ["sentiment", parts.sentiment.score], ["support", parts.support.score], ["growth", parts.growth.score],
  ];
  const known = scores.filter((s): s is [string, string] => s[1] !== null);
  known.sort((a, b) => Number(a[1]) - Number(b[1]));
  const band: Schemas["HealthBandEnum"] | null = health.band;
  return `${band ?? "no band"}; weakest ${known[0]?.[0] ?? "none"}, ${parts.frequency.inputs.active_users} active users`;
}

export function customerToCreate(): Schemas["CustomerRequest"] {
  return { external_id: "ACME", name: "Acme", segment: "SMB" };
}

export function taskToCreate(customer: Schemas["Customer"]["id"]): Json<paths["/api/v1/tasks/"]["post"]["requestBody"]> {
  return { customer, title: "Call the sponsor", due_on: "2024-03-01" };
}

export function customerNames(page: Json<paths["/api/v1/customers/"]["get"]["responses"][200]>): string[] {
  return page.results.map((customer) => `${customer.name} (${customer.csm ?? "no CSM"})`);
}

export function importDone(job: Schemas["ImportJob"]): boolean {
  const problems = job.errors.map((e) => `line ${e.line ?? "-"} ${e.column}: ${e.message}`);
  return job.status === "done" && problems.length === 0;
}

/** Every error the API answers with is one of two shapes. */
export function errorText(status: number, body: Schemas["Error"] | Schemas["ValidationError"]): string {
  if (status !== 400) return `${status}: ${body.detail}`;
  const fields = Object.entries(body).filter(([name]) => name !== "detail");
  return fields.map(([name, problems]) => `${name}: ${([] as string[]).concat(problems).join("; ")}`).join("\n");
}

/** A webhook receiver: what our alert.fired and playbook.step messages carry. */
type AlertFired = webhooks["alert.fired"]["post"];
export function onAlert(
  headers: AlertFired["parameters"]["header"],
  message: AlertFired["requestBody"]["content"]["application/json"],
): string {
  const rule: Schemas["AlertRuleRef"] = message.data.rule;
  return `${headers["webhook-id"]}: ${rule.kind} for ${message.data.customer.name} on ${message.data.fired_on}`;
}

export function onPlaybookStep(message: Schemas["PlaybookStepMessage"]): string {
  return `${message.data.playbook} run ${message.data.run_id} at ${message.data.customer.name}`;
}
