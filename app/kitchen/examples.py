"""OpenAPI examples of the kitchen's answers."""

STATION_EXAMPLE = {"name": "Parrilla", "categories": ["Tacos", "Carnes"], "product_ids": [5], "default": False,
                   "alert_minutes": 12}

TICKET_EXAMPLE = {
    "id": 31, "number": 14, "station_id": 2, "location_id": 1, "order_id": 42, "table": "12",
    "waiter": {"id": 3, "name": "Luis"}, "kind": "new", "status": "open",
    "lines": [{"item_id": 7, "product_name": "Taco al pastor", "quantity": 2,
               "modifiers": [{"name": "Extra guacamole"}], "notes": "no onion", "seat": 1, "course": 1}],
    "created_at": "2026-11-21T20:15:03Z", "ready_at": None, "late": False, "version": 1,
}

TEXT_EXAMPLE = (
    "PARRILLA                               #14\n"
    "==========================================\n"
    "Table: 12                         Order 42\n"
    "Waiter: Luis              2026-11-21 14:15\n"
    "------------------------------------------\n"
    "2x Taco al pastor                    S1 C1\n"
    "    + Extra guacamole\n"
    "    ! no onion\n"
    "==========================================\n"
)
