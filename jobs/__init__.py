"""The job service and what goes with it: deciding what may be done to a job (`service`),
turning a contact file into a job (`importing`), a job's results as CSV (`exporting`), and
the accounts as people see them (`overview`). The CLI, the dashboard and the HTTP API all
call these; nothing here decides twice."""
