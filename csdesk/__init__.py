"""csdesk — the customer-service department (客服部) in a terminal."""

__version__ = "0.1.0"
