"""Purchase reports: submission, state workflow, rules, quotas."""
