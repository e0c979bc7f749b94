; The Windows installer of Mailroom Administrator and mailroomctl, made on Linux by
; NSIS's makensis (assets/windows/package.sh passes VERSION, SOURCE and OUTFILE, and
; FAST for a package compressed little).
; It installs both programs into Program Files, puts Mailroom Administrator in the
; Start menu, and registers an uninstaller in Apps & features. /S installs silently.
; A 64-bit installer, as the programs are (and Wine without its 32-bit part runs only those).
Target amd64-unicode
Name "Mailroom Administrator ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\Mailroom"
RequestExecutionLevel admin
!ifdef FAST
SetCompressor zlib
!else
SetCompressor /SOLID lzma
!endif

!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Mailroom"

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

Section "Mailroom Administrator"
  SetOutPath "$INSTDIR"
  File "${SOURCE}\mailroom-admin.exe"
  File "${SOURCE}\mailroomctl.exe"
  File "${SOURCE}\README.txt"
  WriteUninstaller "$INSTDIR\Uninstall.exe"
  SetShellVarContext all
  CreateDirectory "$SMPROGRAMS\Mailroom"
  CreateShortcut "$SMPROGRAMS\Mailroom\Mailroom Administrator.lnk" "$INSTDIR\mailroom-admin.exe" "" "$INSTDIR\mailroom-admin.exe" 0
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "Mailroom Administrator"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "Mailroom"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\mailroom-admin.exe"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\Uninstall.exe"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\Uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  SetShellVarContext all
  Delete "$SMPROGRAMS\Mailroom\Mailroom Administrator.lnk"
  RMDir "$SMPROGRAMS\Mailroom"
  Delete "$INSTDIR\mailroom-admin.exe"
  Delete "$INSTDIR\mailroomctl.exe"
  Delete "$INSTDIR\README.txt"
  Delete "$INSTDIR\Uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINSTALL_KEY}"
SectionEnd
