"""Reports from the clocks (docs/reports.md): the Regulator's TSM CH01/CH02, the
annual complaints performance and service improvement report (Code 8.1), the
self-assessment, and quarterly updates for the Member Responsible for Complaints."""
