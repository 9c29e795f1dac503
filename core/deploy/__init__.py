"""The engine on AWS itself (``capcon deploy``): the spec a stack runs, its CloudFormation
template and the checks AWS's tools miss, the Lambda code package, and the handler that runs
the same policies as ``capcon autoscale`` when an alarm or a schedule wakes it."""
