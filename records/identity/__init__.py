"""Identity: the organisation tree, people, classes and enrollments, sign-in accounts, and the
links that tie every xAPI actor to one person."""
