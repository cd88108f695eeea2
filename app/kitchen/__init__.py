"""The kitchen: stations and routing, firing courses, tickets, the station queue, and the kitchen screen."""
