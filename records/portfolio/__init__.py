"""The e-portfolio: pupils' and teachers' own entries, written as xAPI statements into the LRS,
and the portfolio read as a query over everything stored about a pupil (DESIGN "Portfolio")."""
