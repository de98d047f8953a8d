"""POST /events: who may send, the request's bounds and warnings, each event's judgement, the page's
URLs, the click-id cookie, location, and the answers. The use case is `use_case.collect`."""
