package ui

import "fyne.io/fyne/v2/widget"

func tableCell(row, col int) widget.TableCellID { return widget.TableCellID{Row: row, Col: col} }
