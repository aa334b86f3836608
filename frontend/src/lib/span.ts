// The years the API accepts in a date or time it is given (services/core/periods.py), as the
// min and max of date and time inputs, so the picker cannot offer year 1 or 9999.
export const SPAN_MIN = "2000-01-01T00:00";
export const SPAN_MAX = "2100-12-31T23:59";
