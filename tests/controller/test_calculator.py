"""The calculator controller, without an app or a database."""

from __future__ import annotations

import unittest

from controller import calculator
from controller.errors import InvalidInput, Unprocessable


class CalculatorTest(unittest.TestCase):
    def test_operations_compute_integers(self) -> None:
        self.assertEqual(calculator.add(2, 3), 5)
        self.assertEqual(calculator.subtract(2, 3), -1)
        self.assertEqual(calculator.multiply(-4, 3), -12)
        self.assertEqual(calculator.divide(7, 2), 3)

    def test_divide_rounds_down_like_python(self) -> None:
        self.assertEqual(calculator.divide(-7, 2), -4)

    def test_divide_by_zero_raises_invalid_input(self) -> None:
        with self.assertRaises(InvalidInput) as caught:
            calculator.divide(1, 0)
        self.assertEqual(caught.exception.code, "division_by_zero")

    def test_result_beyond_safe_range_raises_unprocessable(self) -> None:
        with self.assertRaises(Unprocessable):
            calculator.add(calculator.MAX_SAFE_INTEGER, 1)
        self.assertEqual(calculator.add(calculator.MAX_SAFE_INTEGER, 0), calculator.MAX_SAFE_INTEGER)
