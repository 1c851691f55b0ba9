"""Built-in source connectors, one per kind (registered in ``monitoring.registry``)."""
