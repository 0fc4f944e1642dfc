"""Getting tasks to departments: queue names and jobs, the retry policy, delivery state and
dead letters."""
