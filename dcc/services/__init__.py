"""The reference DCC's service layer: functions taking a Session; the caller owns the transaction."""
