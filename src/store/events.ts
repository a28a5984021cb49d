/**
 * The events repository: every query of the day indices (and the cast of its answer) that the read path, the
 * write path, the page and the integrity layer need. Callers pass domain values and get domain values back.
 */

// --- Read path: list, search, stream, page aggregations ----------------------------------------------------

// --- Write path: ingest ---------------------------------------------------------------------------------------

// --- Integrity: what the sealer and verify read of the day indices -------------------------------------------
