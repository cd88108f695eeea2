// Type-checked (tsc --noEmit, strict) against the client types openapi-typescript generates from the live
// /openapi.json into build/comanda.ts (tests/contract/test_generated_clients.py; `make client-typescript`).
// Every `@ts-expect-error` below must be an error: were a type `any`, tsc would report the directive unused.
import type { components, paths } from "./build/comanda";

type Schemas = components["schemas"];
type CreateOrder = paths["/api/v1/orders"]["post"];
type OrderBody = CreateOrder["requestBody"]["content"]["application/json"];
type Order = CreateOrder["responses"][201]["content"]["application/json"];
type Line = OrderBody["items"][number];
type Problem = Schemas["Problem"];
type Login = paths["/api/v1/auth/login"]["post"];

const catalogueLine: Schemas["ProductLineIn"] = { product_id: 5, quantity: 2, notes: "no onion" };
const adHocLine: Schemas["AdHocLineIn"] = { product_name: "Agua de horchata", unit_price: "25.50", quantity: 1 };
export const body: OrderBody = { customer_name: "Ana", table: "12", items: [catalogueLine, adHocLine] };

// The union narrows on the member that tells the two kinds of line apart.
export function describe(line: Line): string {
  if ("product_id" in line) {
    return `#${line.product_id} x${line.quantity}`;
  }
  return `${line.product_name} at ${line.unit_price} x${line.quantity}`;
}

// @ts-expect-error a line is a catalogue line or an ad-hoc line: quantity alone is neither
export const noKind: Line = { quantity: 1 };
// @ts-expect-error an ad-hoc line needs its unit_price
export const noPrice: Schemas["AdHocLineIn"] = { product_name: "Agua", quantity: 1 };
// @ts-expect-error statuses are an enum
export const paid: Order["status"] = "paid";
// @ts-expect-error error codes are an enum
export const unknownCode: Problem["code"] = "oops";

// Money is a decimal string; nullable members admit null.
export function summary(order: Order): string {
  const total: string = order.total;
  const closedAt: string | null = order.closed_at;
  const lines = order.items.map((item) => `${item.product_name}: ${item.line_total}`);
  return `${order.id} ${order.status} ${total} ${closedAt ?? "open"} ${lines.join(", ")}`;
}

export async function logIn(baseUrl: string, email: string, password: string): Promise<string> {
  const request: Login["requestBody"]["content"]["application/json"] = { email, password };
  const answer = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(request),
  });
  if (answer.status === 429) {
    const problem = (await answer.json()) as Login["responses"][429]["content"]["application/problem+json"];
    throw new Error(`${problem.code}: retry after ${answer.headers.get("Retry-After")} s`);
  }
  const tokens = (await answer.json()) as Login["responses"][200]["content"]["application/json"];
  return tokens.access_token;
}

export async function createOrder(baseUrl: string, token: string, order: OrderBody): Promise<Order | Problem> {
  const answer = await fetch(`${baseUrl}/api/v1/orders`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(order),
  });
  return (await answer.json()) as Order | Problem;
}

// Issue 22: enums, decimal strings and event data typed per event type, without casting.
type Events = paths["/api/v1/orders/{order_id}/events"]["get"]["responses"][200]["content"]["application/json"];
type Event = Events["data"][number];

// The discriminator narrows an event to its type's data.
export function tipOf(event: Event): string | null {
  if (event.type === "payment_added") {
    return event.data.tip ?? null;
  }
  if (event.type === "closed") {
    return event.data.payment?.tip ?? null;
  }
  return null;
}
// @ts-expect-error event types are an enum
export const unknownEvent: Event["type"] = "teleported";
// @ts-expect-error a payment_added event's data has no item_ids
export const wrongData = (event: Event): number[] | undefined => event.type === "payment_added" ? event.data.item_ids : [];
// @ts-expect-error payment methods are an enum
export const bitcoin: Schemas["PaymentIn"]["method"] = "bitcoin";
// @ts-expect-error an order's payment_method is an enum (mixed included)
export const barter: Order["payment_method"] = "barter";
// @ts-expect-error currencies are an enum
export const doubloons: Order["currency"] = "XDB";
export const amount: Schemas["PaymentIn"]["amount"] = "12.50";
// Output rates are strings.
export const rate = (order: Order): string => order.items[0]?.tax_rate ?? "0";
