"""决定 (decision): one decision document for the call's list (funding, recognition or
commendation) and a notice or certificate per applicant; and the recognitions it leaves, with
their validity."""
