"""Personal data: normalising and hashing identifiers, recognising PII in any field, scrubbing it from
URLs and properties, and the match keys built from what is left."""
