"""The regional dashboard (tableau de bord, cahier des charges 2.4; TBB requirements of the Ségur REMs).

``periods`` parses the periods and gives the windows (current month, current year, previous year); ``extract``
counts the recorded activity by month in the database; ``indicators`` declares every indicator and computes them;
``render`` writes the workbook, the CSV extractions, the INCa quarterly sheet and the charts; ``service`` is what
the API and the CLI call (it emits the ``tbb.*`` events); ``generate`` writes realistic activity in bulk.
"""
