"""SQS -> the Events API: per-pixel batches, the dedup claims in DynamoDB, redelivery and retry rules,
the Events API's answers, and summaries of what went to the DLQ. The use case is `use_case.forward`."""
