"""Getting data into a store: imports, bulk loading, the demo region, reference data, setup."""
