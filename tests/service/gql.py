"""GraphQL documents shared by the service tests."""

RECORD_TICKET = """
mutation($input: TicketInput!) {
  recordTicket(input: $input) { id createdAt createdBy fields decidedBy level { name }
    cycles { metric state dueAt elapsedSeconds remainingSeconds rulesetVersion } }
}"""

RECORD_EVENTS = """
mutation($events: [EventInput!]!) {
  recordEvents(events: $events) { applied duplicates
    tickets { id fields level { name } cycles { state stoppedAt elapsedSeconds }
              events { eventId at type payload } evaluations { at levelBefore levelAfter } } }
}"""

TICKET = """
query($id: ID!) {
  ticket(id: $id) { id createdAt fields decidedBy level { name title calendar }
    cycles { metric index state startedAt stoppedAt dueAt breachedAt targetSeconds
             elapsedSeconds remainingSeconds rulesetVersion warnings { percent at }
             timeline { kind at } }
    events { eventId at type payload }
    evaluations { at rulesetVersion matchedRules levelBefore levelAfter decidedBy } }
}"""

TICKETS = """
query($filter: TicketFilter, $first: Int, $after: String) {
  tickets(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id cycles { state dueAt elapsedSeconds } } } }
}"""

SLA_LOG = """
query($filter: SlaLogFilter, $first: Int, $after: String) {
  slaLog(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { ticketId department level metric index state startedAt dueAt
                          stoppedAt targetSeconds elapsedSeconds remainingSeconds
                          rulesetVersion } } }
}"""


def ticket(id: str, at: str = "2026-03-02T09:00:00-03:00", **fields: object) -> dict:
    return {"input": {"id": id, "createdAt": at, "fields": {"status": "new", **fields}}}


def message(event_id: str, ticket_id: str, at: str, by: str = "AGENT", **kw: object) -> dict:
    return {"eventId": event_id, "ticketId": ticket_id, "at": at, "message": {"by": by, **kw}}


def status(event_id: str, ticket_id: str, at: str, value: str) -> dict:
    return {"eventId": event_id, "ticketId": ticket_id, "at": at, "status": value}
