"""Running the service: migrations, the embedded Redis, how much work is waiting."""
