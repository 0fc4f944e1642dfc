"""Getting tasks to departments: queue names and jobs, delivery state, dead letters."""
