"""The proof bundle: evidence store, manifest, recette book, JUnit/Allure/HTML reports, verification."""
